// The exchange handlers' per-request debug lines (src/daemon/exchange.ts) are built only while
// debug is wanted: the level can change at run time, so each request asks `debugEnabled`.
import { describe, expect, it } from 'vitest';
import { exchangeHandlers } from '../src/daemon/exchange.js';
import { ExchangeMetrics } from '../src/daemon/metrics.js';
import type { IbakeEndpoint } from '../src/ibake/index.js';

// exchange.close needs no crypto: an endpoint whose three tables hold nothing.
const empty = { byCsb: () => [], delete: () => {} };
const endpoint = { initiated: empty, responded: empty, offers: empty, closeOffer: () => {} } as unknown as IbakeEndpoint;

function handlers(enabled: () => boolean) {
  const lines: string[] = [];
  const h = exchangeHandlers({
    endpoint: () => endpoint,
    metrics: { exchanges: new ExchangeMetrics(), observeMessage: () => {} },
    debug: (l) => lines.push(l),
    debugEnabled: enabled,
  });
  return { h, lines };
}

describe('exchange debug lines', () => {
  it('are not built while debug is off, and are as soon as it is on', async () => {
    let on = false;
    const { h, lines } = handlers(() => on);
    const close = () => h['exchange.close']!({ identity: 'sip:alice@example.org', csbId: 7 }, {});
    await expect(close()).resolves.toEqual({ closed: 0 });
    expect(lines).toEqual([]);
    on = true;
    await close();
    expect(lines).toEqual(['exchange 00000007: sip:alice@example.org closed 0 state(s)']);
    on = false;
    await close();
    expect(lines).toHaveLength(1);
  });

  it('go out whenever a debug sink is given without a switch', async () => {
    const lines: string[] = [];
    const h = exchangeHandlers({ endpoint: () => endpoint, metrics: { exchanges: new ExchangeMetrics(), observeMessage: () => {} }, debug: (l) => lines.push(l) });
    await h['exchange.close']!({ identity: 'sip:bob@example.org', csbId: 1 }, {});
    expect(lines).toHaveLength(1);
  });
});
