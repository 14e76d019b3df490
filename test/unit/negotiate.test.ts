import { negotiateFormat } from '../../src/metrics/negotiate';

describe('negotiateFormat', () => {
  it.each([
    [
      'Prometheus 2.42',
      'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      'openmetrics',
    ],
    [
      'Prometheus 3 (escaping parameters)',
      'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2',
      'openmetrics',
    ],
    [
      'Prometheus 3 told to prefer the text format',
      'text/plain;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=1.0.0;q=0.4,*/*;q=0.1',
      'text',
    ],
    ['curl', '*/*', 'text'],
    ['no header', undefined, 'text'],
    ['an empty header', '', 'text'],
    ['a browser', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'text'],
    ['an OpenMetrics version this service does not write', 'application/openmetrics-text;version=2.0.0', 'text'],
    ['OpenMetrics refused with q=0', 'application/openmetrics-text;q=0,text/plain;q=0.1', 'text'],
    ['OpenMetrics without a version, spaces and upper case', 'Application/OpenMetrics-Text ; q=0.9 , text/plain ; q=0.8', 'openmetrics'],
    ['equal q: the first listed', 'text/plain;version=0.0.4;q=0.5,application/openmetrics-text;version=1.0.0;q=0.5', 'text'],
  ])('answers %s with %s', (_who, accept, expected) => {
    expect(negotiateFormat(accept)).toBe(expected);
  });
});
