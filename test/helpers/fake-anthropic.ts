// A local HTTP server that speaks the Anthropic Messages API (`POST /v1/messages`), for tests: the
// SDK's `baseURL` points at it, nothing goes to the internet. It plays a small, deterministic model
// that uses the tools the way a real one does — summary first, then the first anomaly's detail and
// its category's contract, then an answer that cites numbers from the tool results — and it answers
// with the API's shapes (content blocks, stop_reason, usage with the prompt-cache fields). Tests
// queue faults (any status with headers, or a delay past the client's timeout), hold answers behind
// a gate, and read every request it received.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  at: number;
  headers: http.IncomingHttpHeaders;
  body: any;
}

export type Fault = { status: number; headers?: Record<string, string>; errorType?: string } | { delayMs: number };

export interface FakeModelOptions {
  /** Adds a number no tool returned to every answer (the numbers check must catch it). */
  inventNumber?: boolean;
}

const LANG_WORDS: Record<string, string> = { German: 'Zusammenfassung', Dutch: 'Samenvatting', French: 'Résumé', Polish: 'Podsumowanie', English: 'Summary' };

export class FakeAnthropic {
  readonly requests: RecordedRequest[] = [];
  readonly faults: Fault[] = [];
  options: FakeModelOptions = {};
  private server?: http.Server;
  private gate: Promise<void> | null = null;
  private openGate: (() => void) | null = null;
  private seenPrefixes = new Set<string>();
  url = '';

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.release();
    await new Promise<void>((resolve) => {
      this.server?.close(() => resolve());
      this.server?.closeAllConnections();
    });
  }

  /** Model answers wait until `release()`. */
  hold(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  release(): void {
    this.openGate?.();
    this.gate = null;
    this.openGate = null;
  }

  reset(): void {
    this.requests.length = 0;
    this.faults.length = 0;
    this.options = {};
    this.release();
  }

  /** Requests whose messages are only the opening user turn (the first call of each generation). */
  firstCalls(): RecordedRequest[] {
    return this.requests.filter((r) => r.body?.messages?.length === 1);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body: any;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return this.error(res, 400, 'invalid_request_error', 'body is not JSON');
    }
    this.requests.push({ at: Date.now(), headers: req.headers, body });
    if (req.method !== 'POST' || !req.url?.startsWith('/v1/messages')) return this.error(res, 404, 'not_found_error', `no route ${req.method} ${req.url}`);
    // SDK 1.x sends the key as a Bearer token (earlier ones as x-api-key): either works.
    if (req.headers['x-api-key'] !== 'test-key' && req.headers.authorization !== 'Bearer test-key') return this.error(res, 401, 'authentication_error', 'invalid API key');

    const fault = this.faults.shift();
    if (fault && 'delayMs' in fault) {
      // Longer than the client waits: it times out and gives up on this connection.
      await new Promise((r) => setTimeout(r, fault.delayMs));
      if (!res.writableEnded && !res.destroyed) this.reply(res, body);
      return;
    }
    if (fault) return this.error(res, fault.status, fault.errorType ?? errorTypeOf(fault.status), `injected ${fault.status}`, fault.headers);
    if (!Array.isArray(body.messages) || typeof body.model !== 'string' || typeof body.max_tokens !== 'number') {
      return this.error(res, 400, 'invalid_request_error', 'model, max_tokens and messages are required');
    }
    if (this.gate) await this.gate;
    this.reply(res, body);
  }

  private error(res: http.ServerResponse, status: number, type: string, message: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_${this.requests.length}`, ...headers });
    res.end(JSON.stringify({ type: 'error', error: { type, message } }));
  }

  private reply(res: http.ServerResponse, body: any): void {
    const content = this.think(body);
    const toolUse = content.some((b) => b.type === 'tool_use');
    // Prompt caching: the prefix up to the last cache_control breakpoint (tools + system) is written
    // once, then read.
    const prefix = JSON.stringify({ tools: body.tools, system: body.system });
    const prefixTokens = Math.ceil(prefix.length / 4);
    const cached = Array.isArray(body.system) && body.system.some((b: any) => b.cache_control?.type === 'ephemeral');
    const hash = createHash('sha256').update(prefix).digest('hex');
    const hit = cached && this.seenPrefixes.has(hash);
    if (cached) this.seenPrefixes.add(hash);
    const usage = {
      input_tokens: Math.ceil(JSON.stringify(body.messages).length / 4) + (cached ? 0 : prefixTokens),
      output_tokens: Math.ceil(JSON.stringify(content).length / 4),
      cache_creation_input_tokens: cached && !hit ? prefixTokens : 0,
      cache_read_input_tokens: hit ? prefixTokens : 0,
      cache_creation: null,
      inference_geo: null,
      output_tokens_details: null,
      server_tool_use: null,
      service_tier: 'standard',
    };
    res.writeHead(200, { 'content-type': 'application/json', 'request-id': `req_${this.requests.length}` });
    res.end(
      JSON.stringify({
        id: `msg_${this.requests.length}`,
        type: 'message',
        role: 'assistant',
        model: body.model,
        content,
        stop_reason: toolUse ? 'tool_use' : 'end_turn',
        stop_sequence: null,
        usage,
      }),
    );
  }

  /** The fake model: what it calls and says, from the conversation so far. */
  private think(body: any): any[] {
    const messages: any[] = body.messages;
    const results = new Map<string, any>();
    const calls = new Map<string, { name: string; input: any }>();
    for (const m of messages) {
      if (!Array.isArray(m.content)) continue;
      for (const b of m.content) {
        if (b.type === 'tool_use') calls.set(b.id, { name: b.name, input: b.input });
        if (b.type === 'tool_result') {
          const call = calls.get(b.tool_use_id);
          if (call) results.set(call.name, JSON.parse(b.content));
        }
      }
    }
    const mayUseTools = body.tool_choice?.type !== 'none' && Array.isArray(body.tools) && body.tools.length > 0;
    const n = this.requests.length;
    if (mayUseTools && !results.has('get_session_summary')) {
      return [{ type: 'text', text: 'Reading the session.' }, { type: 'tool_use', id: `toolu_${n}_1`, name: 'get_session_summary', input: {} }];
    }
    const summary = results.get('get_session_summary');
    if (mayUseTools && summary?.anomalies?.length && !results.has('get_anomaly_detail')) {
      return [
        { type: 'tool_use', id: `toolu_${n}_2`, name: 'get_anomaly_detail', input: { index: 1 } },
        { type: 'tool_use', id: `toolu_${n}_3`, name: 'get_category_contract', input: { category: summary.anomalies[0].category } },
      ];
    }
    const opening: string = typeof messages[0].content === 'string' ? messages[0].content : messages[0].content.map((b: any) => b.text ?? '').join('');
    const language = Object.keys(LANG_WORDS).find((l) => opening.includes(l)) ?? 'English';
    const lines = [`${LANG_WORDS[language]}:`];
    if (!summary) lines.push('I could not read the session.');
    else {
      lines.push(`Session ${summary.sessionId} at ${summary.chargingStationId}: ${summary.anomalyCount} anomalies, confidence ${summary.anomalyConfidence}.`);
      if (summary.energy) lines.push(`The register delivered ${summary.energy.deliveredKwh} kWh.`);
      const d = results.get('get_anomaly_detail');
      if (d) lines.push(`${d.category} from ${d.timeRange.startTimestamp} to ${d.timeRange.endTimestamp}, score ${d.score}, confidence ${d.confidence}.`);
    }
    if (opening.includes('<question>')) lines.push('That answers the question.');
    if (this.options.inventNumber) lines.push('It also lost 42.7 kWh somewhere.');
    return [{ type: 'text', text: lines.join(' ') }];
  }
}

function errorTypeOf(status: number): string {
  if (status === 429) return 'rate_limit_error';
  if (status === 529) return 'overloaded_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}
