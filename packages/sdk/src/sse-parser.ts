/** One dispatched Server-Sent Event. */
export interface SseEvent {
  /** The `event` field, `message` when absent. */
  type: string;
  /** The `data` lines joined with `\n`. */
  data: string;
  /** The last event ID in force when the event was dispatched (`''` if none yet). */
  lastEventId: string;
}

const LINE_END = /\r\n|\r|\n/g;

/**
 * An incremental parser for `text/event-stream` (WHATWG HTML §9.2.6 "Interpreting an event
 * stream"): feed it decoded text in chunks of any size; it returns the events each chunk completes.
 * Node 20 has no EventSource, and the feed client needs the cursor (`id`) and `retry` handling.
 */
export class SseParser {
  /** The last event ID (the `id` field), sent back as the resume cursor. */
  lastEventId = '';
  /** The reconnection time the server asked for with a `retry` field, in milliseconds. */
  retry: number | undefined;

  readonly #maxBuffered: number;
  readonly #onComment: ((comment: string) => void) | undefined;
  #partial = '';
  #afterCR = false;
  #started = false;
  #data: string[] = [];
  #dataLength = 0;
  #type = '';
  #idBuffer = '';

  /**
   * @param options.maxBuffered longest line or event, in characters, before {@link push} throws.
   * @param options.onComment called with each comment line (`: keepalive` gives `keepalive`), in
   *   stream order with the events: comments carry no data, but show that the server is alive.
   */
  constructor(options: { maxBuffered?: number; onComment?: (comment: string) => void } = {}) {
    this.#maxBuffered = options.maxBuffered ?? 1 << 20;
    this.#onComment = options.onComment;
  }

  /**
   * Parses the next chunk of the stream.
   * @throws RangeError when a line or event grows past the configured limit.
   */
  push(chunk: string): SseEvent[] {
    let text = chunk;
    if (this.#afterCR && text.length > 0) {
      // A CR ended the previous chunk: a leading LF here completes that CRLF, not an empty line.
      if (text.charCodeAt(0) === 10) text = text.slice(1);
      this.#afterCR = false;
    }
    if (!this.#started && text.length > 0) {
      this.#started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    const events: SseEvent[] = [];
    let start = 0;
    LINE_END.lastIndex = 0;
    for (let match = LINE_END.exec(text); match; match = LINE_END.exec(text)) {
      const line = this.#partial + text.slice(start, match.index);
      this.#partial = '';
      this.#line(line, events);
      start = match.index + match[0].length;
      // A CR at the very end may be the first half of a CRLF split across chunks.
      if (match[0] === '\r' && start === text.length) this.#afterCR = true;
    }
    this.#partial += text.slice(start);
    if (this.#partial.length > this.#maxBuffered) throw new RangeError('event stream line too long');
    return events;
  }

  #line(line: string, events: SseEvent[]): void {
    if (line === '') {
      this.#dispatch(events);
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) {
      // A comment, such as a keepalive.
      this.#onComment?.(line.charCodeAt(1) === 32 /* space */ ? line.slice(2) : line.slice(1));
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32 /* space */) value = value.slice(1);
    switch (field) {
      case 'event':
        this.#type = value;
        break;
      case 'data':
        this.#data.push(value);
        this.#dataLength += value.length + 1;
        if (this.#dataLength > this.#maxBuffered) throw new RangeError('event stream event too long');
        break;
      case 'id':
        if (!value.includes('\0')) this.#idBuffer = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        // Unknown fields are ignored.
        break;
    }
  }

  #dispatch(events: SseEvent[]): void {
    this.lastEventId = this.#idBuffer;
    if (this.#data.length > 0) {
      events.push({ type: this.#type || 'message', data: this.#data.join('\n'), lastEventId: this.lastEventId });
    }
    this.#data = [];
    this.#dataLength = 0;
    this.#type = '';
  }
}
