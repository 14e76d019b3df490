// k8s/ensure-secret.ts (the chart's files/ensure-secret.js is generated from it: npm run chart)
const fs = require('node:fs'), crypto = require('node:crypto');
const sa = '/var/run/secrets/kubernetes.io/serviceaccount';
const env = process.env;
const api = new URL(env.KUBERNETES_API_URL || 'https://' + env.KUBERNETES_SERVICE_HOST + ':' + env.KUBERNETES_SERVICE_PORT);
const token = fs.readFileSync(env.KUBERNETES_TOKEN_FILE || sa + '/token', 'utf8').trim();
const caFile = env.KUBERNETES_CA_FILE || sa + '/ca.crt';
const ca = api.protocol === 'https:' ? fs.readFileSync(caFile) : undefined;
const name = env.SECRET_NAME, namespace = env.SECRET_NAMESPACE;
const spec = JSON.parse(env.SECRET_SPEC), labels = JSON.parse(env.SECRET_LABELS || '{}');
const path = '/api/v1/namespaces/' + namespace + '/secrets';
function call(method, url, body, type) {
  const client = require(api.protocol === 'https:' ? 'node:https' : 'node:http');
  return new Promise((resolve, reject) => {
    const req = client.request(new URL(url, api), { method, ca, timeout: 10000, headers: {
      authorization: 'Bearer ' + token, accept: 'application/json', 'content-type': type || 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : {} }));
    });
    req.on('timeout', () => req.destroy(new Error(method + ' ' + url + ': no answer in 10s')));
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
function random(length) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  while (out.length < length) for (const b of crypto.randomBytes(length)) if (b < 248 && out.length < length) out += alphabet[b % 62];
  return out;
}
function fill(known) {
  const values = { ...known };
  for (const [key, s] of Object.entries(spec)) if (!(key in values) && !('template' in s)) values[key] = 'value' in s ? s.value : random(s.random);
  for (const [key, s] of Object.entries(spec))
    if (!(key in values)) values[key] = s.template.replace(/\$\(([A-Za-z0-9_.-]+)\)/g, (_, k) => values[k] ?? '');
  return values;
}
const b64 = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
(async () => {
  for (let attempt = 0; attempt < 5; attempt++) {
    const got = await call('GET', path + '/' + name);
    if (got.status === 200) {
      const known = Object.fromEntries(Object.entries(got.body.data || {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
      const missing = Object.keys(spec).filter((k) => !(k in known));
      if (missing.length === 0) return console.log('Secret ' + name + ' exists: kept as it is');
      const added = fill(known);
      const patch = await call('PATCH', path + '/' + name, { data: b64(Object.fromEntries(missing.map((k) => [k, added[k]]))) },
        'application/merge-patch+json');
      if (patch.status !== 200) throw new Error('PATCH Secret ' + name + ': HTTP ' + patch.status + ' ' + JSON.stringify(patch.body));
      return console.log('Secret ' + name + ' exists: added ' + missing.join(', '));
    }
    if (got.status !== 404) throw new Error('GET Secret ' + name + ': HTTP ' + got.status + ' ' + JSON.stringify(got.body));
    const created = await call('POST', path, { apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
      metadata: { name, namespace, labels }, data: b64(fill({})) });
    if (created.status === 201) return console.log('Secret ' + name + ' created');
    if (created.status !== 409) throw new Error('POST Secret ' + name + ': HTTP ' + created.status + ' ' + JSON.stringify(created.body));
  }
  throw new Error('Secret ' + name + ': created and deleted concurrently 5 times');
})().catch((err) => { console.error(err.message); process.exit(1); });
