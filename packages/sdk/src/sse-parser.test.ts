import { describe, expect, it } from 'vitest';
import { SseParser, type SseEvent } from './sse-parser.js';

/** Feeds `chunks` to a fresh parser and collects every event. */
function parse(chunks: string[]): { events: SseEvent[]; parser: SseParser } {
  const parser = new SseParser();
  return { events: chunks.flatMap((chunk) => parser.push(chunk)), parser };
}

describe('SseParser (WHATWG HTML §9.2.6)', () => {
  it('parses the revocation feed format', () => {
    const { events, parser } = parse(['id: 42\nevent: revocation\ndata: {"jti":"a","exp":1700000000}\n\n']);
    expect(events).toEqual([{ type: 'revocation', data: '{"jti":"a","exp":1700000000}', lastEventId: '42' }]);
    expect(parser.lastEventId).toBe('42');
  });

  // The spec's own examples (§9.2.6 "Event stream examples").
  it('joins data lines with LF and defaults the type to message', () => {
    const { events } = parse(['data: YHOO\ndata: +2\ndata: 10\n\n']);
    expect(events).toEqual([{ type: 'message', data: 'YHOO\n+2\n10', lastEventId: '' }]);
  });

  it('ignores comments, keeps the last id across events, and dispatches "data" with an empty value', () => {
    const { events } = parse([': test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n']);
    expect(events).toEqual([
      { type: 'message', data: 'first event', lastEventId: '1' },
      { type: 'message', data: 'second event', lastEventId: '' },
      { type: 'message', data: ' third event', lastEventId: '' },
    ]);
    const empty = parse(['data\n\ndata\ndata\n\ndata:\n']);
    // The last block has no terminating blank line, so it is never dispatched.
    expect(empty.events.map((e) => e.data)).toEqual(['', '\n']);
  });

  it('gives the same events whatever the chunking, for LF, CR and CRLF line ends', () => {
    const stream = 'retry: 250\r\nid: 7\r\nevent: revocation\r\ndata: {"jti":"x"}\r\n\r\n: keepalive\r: another\n\nid: 8\revent: revocation\rdata: two\r\rdata: three\n\n';
    const whole = parse([stream]).events;
    expect(whole).toEqual([
      { type: 'revocation', data: '{"jti":"x"}', lastEventId: '7' },
      { type: 'revocation', data: 'two', lastEventId: '8' },
      { type: 'message', data: 'three', lastEventId: '8' },
    ]);
    for (let cut = 1; cut < stream.length; cut++) {
      expect(parse([stream.slice(0, cut), stream.slice(cut)]).events).toEqual(whole);
    }
    expect(parse([...stream]).events).toEqual(whole);
  });

  it('does not take a CRLF split across chunks for two line ends', () => {
    const { events } = parse(['data: a\r', '\ndata: b\r', '\n\r', '\n']);
    expect(events).toEqual([{ type: 'message', data: 'a\nb', lastEventId: '' }]);
  });

  it('strips one leading BOM and one space after the colon, nothing more', () => {
    expect(parse(['\uFEFFdata:  x \n\n']).events[0]!.data).toBe(' x ');
    expect(parse(['\uFEFF', '\uFEFFdata: x\n\n']).events).toEqual([]);
  });

  it('reads retry only when all digits, ignores an id containing NUL and unknown fields', () => {
    const { parser, events } = parse(['retry: 1500\n\nretry: 2s\n\nid: a\0b\nfoo: bar\ndata: d\n\n']);
    expect(parser.retry).toBe(1500);
    expect(events).toEqual([{ type: 'message', data: 'd', lastEventId: '' }]);
  });

  it('updates the last event id on an id-only block without dispatching anything', () => {
    const { parser, events } = parse(['id: 5\n\n']);
    expect(events).toEqual([]);
    expect(parser.lastEventId).toBe('5');
  });

  it('surfaces comments in stream order, whatever the chunking, without making them events', () => {
    const seen: string[] = [];
    const parser = new SseParser({ onComment: (comment) => seen.push(`comment:${comment}`) });
    const stream = ': gatehouse revocation feed\n\ndata: a\n\n: keepalive\r\n\r\n:\n:  two spaces\n';
    for (const char of stream) for (const event of parser.push(char)) seen.push(`event:${event.data}`);
    expect(seen).toEqual(['comment:gatehouse revocation feed', 'event:a', 'comment:keepalive', 'comment:', 'comment: two spaces']);
    // A comment line is only complete at its line end.
    const partial: string[] = [];
    new SseParser({ onComment: (comment) => partial.push(comment) }).push(': keepal');
    expect(partial).toEqual([]);
  });

  it('resets the event type after each dispatch', () => {
    const { events } = parse(['event: revocation\ndata: 1\n\ndata: 2\n\n']);
    expect(events.map((e) => e.type)).toEqual(['revocation', 'message']);
  });

  it('refuses an endless line or event', () => {
    const parser = new SseParser({ maxBuffered: 100 });
    expect(() => parser.push('data: ' + 'x'.repeat(200))).toThrow(RangeError);
    const events = new SseParser({ maxBuffered: 100 });
    expect(() => {
      for (let i = 0; i < 50; i++) events.push('data: xxxxxxxx\n');
    }).toThrow(RangeError);
  });
});
