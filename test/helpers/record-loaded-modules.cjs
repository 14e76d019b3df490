// Preloaded with `node -r`: on exit, writes every module file the process loaded through
// require() (one per line) to the file named by RECORD_LOADED_MODULES.
const { writeFileSync } = require('node:fs');

process.on('exit', () => {
  writeFileSync(process.env.RECORD_LOADED_MODULES, Object.keys(require.cache).join('\n'));
});
