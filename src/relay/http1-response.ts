/**
 * Reads one HTTP/1.1 response from the bytes of a connection, for src/relay/socket-transport.ts.
 * Pure: bytes in, a response (or a TransportError) out, so every framing rule is unit-tested and
 * fuzzed without a socket.
 *
 * Why not a library: the parsers Node.js has are node:http's (10 ms of `canary rollback`'s
 * start-up just to load, docs/benchmarks.md), undici's (a WebAssembly module compiled on every
 * start) and `_http_common` (internal, deprecated). http-parser-js, the pure-JS one, loops
 * forever on a negative chunk size (`-5\r\n`), and a response from a broken proxy must not hang
 * an incident's rollback. This reader follows RFC 9112 for what a client must handle — status
 * line, header fields, 1xx interim answers, Content-Length, chunked transfer coding with
 * extensions and trailers, a body that ends with the connection, keep-alive — and refuses the
 * rest (obsolete line folding, conflicting lengths, bare line feeds) instead of guessing.
 */
import { TransportError } from './transport.js';

export interface ParsedResponse {
  status: number;
  /** Lower-case names; a repeated header keeps its first value. */
  headers: Record<string, string>;
  body: Buffer;
  /** The connection may carry the next request. */
  keepAlive: boolean;
}

export interface ReaderLimits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
}

type State =
  | 'head'
  | 'sized'
  | 'chunk-size'
  | 'chunk-data'
  | 'chunk-end'
  | 'trailers'
  | 'until-close'
  | 'done';

const CRLF = Buffer.from('\r\n');
/** Nothing pending; shared, since a zero-length buffer cannot change. */
const EMPTY = Buffer.alloc(0);
const HEAD_END = '\r\n\r\n';
const HTTP_PREFIX = 'HTTP/1.';
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [^\r\n]*)?$/;
/** A field name is an RFC 9110 token. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const BAD_VALUE = /[\u0000-\u0008\u000a-\u001f\u007f]/;
/** Up to 8 hex digits (4 GiB, far past any limit), then optional extensions, which carry nothing canary needs. */
const CHUNK_SIZE = /^([0-9A-Fa-f]{1,8})[ \t]*(?:;.*)?$/;
/** Longest chunk-size line (with extensions) read before giving up on it. */
const MAX_CHUNK_LINE = 4096;

const SP = 0x20;
const HTAB = 0x09;

/**
 * A header line's name (as written) and value (trimmed of spaces and tabs), or null when the
 * name is not a token. By hand rather than one regex with a lazy value: every answer of an
 * hours-long rollout has half a dozen header lines.
 */
function field(line: string): [string, string] | null {
  const colon = line.indexOf(':');
  if (colon <= 0) return null;
  const name = line.slice(0, colon);
  if (!TOKEN.test(name)) return null;
  let from = colon + 1;
  let to = line.length;
  while (from < to && (line.charCodeAt(from) === SP || line.charCodeAt(from) === HTAB)) from++;
  while (to > from && (line.charCodeAt(to - 1) === SP || line.charCodeAt(to - 1) === HTAB)) to--;
  return [name, line.slice(from, to)];
}

function bad(message: string, responded: boolean): TransportError {
  return new TransportError('BAD_RESPONSE', `the relay's answer is not valid HTTP/1.1: ${message}`, {
    responded,
  });
}

export class ResponseReader {
  private state: State = 'head';
  private pending: Buffer = EMPTY;
  private status = 0;
  private headers: Record<string, string> = {};
  private keepAlive = false;
  private remaining = 0;
  private readonly bodyParts: Buffer[] = [];
  private bodyBytes = 0;
  private trailerBytes = 0;
  /** Bytes that came after the response: the server said more than it was asked. */
  private extra = 0;

  constructor(private readonly limits: ReaderLimits) {}

  private get done(): boolean {
    return this.state === 'done';
  }

  /** True once the final status line and headers have arrived. */
  get headersDone(): boolean {
    return this.state !== 'head';
  }

  /** Feeds the next bytes of the connection; returns the response once it is complete. */
  push(chunk: Buffer): ParsedResponse | undefined {
    if (this.state === 'done') {
      this.extra += chunk.length;
      return undefined;
    }
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (!this.done) {
      if (!this.step()) return undefined;
    }
    this.extra += this.pending.length;
    this.pending = EMPTY;
    return this.result();
  }

  /** The connection ended: completes a body that runs until the close, else reports what is missing. */
  end(): ParsedResponse {
    if (this.state === 'until-close') {
      this.state = 'done';
      return this.result();
    }
    if (this.state === 'head' && this.pending.length === 0) {
      throw new TransportError('SOCKET_CLOSED', 'the connection closed before any response', {
        responded: false,
      });
    }
    const where =
      this.state === 'head'
        ? 'in the middle of the status line and headers'
        : 'before the whole body arrived';
    throw new TransportError('SOCKET_CLOSED', `the connection closed ${where}`, {
      responded: this.headersDone,
    });
  }

  private result(): ParsedResponse {
    return {
      status: this.status,
      headers: this.headers,
      body: this.bodyParts.length === 1 ? (this.bodyParts[0] as Buffer) : Buffer.concat(this.bodyParts),
      keepAlive: this.keepAlive && this.extra === 0,
    };
  }

  /** Advances the state machine over `pending`; false when it needs more bytes. */
  private step(): boolean {
    switch (this.state) {
      case 'head':
        return this.readHead();
      case 'sized':
        return this.readCounted('done');
      case 'chunk-size':
        return this.readChunkSize();
      case 'chunk-data':
        return this.readCounted('chunk-end');
      case 'chunk-end':
        return this.readChunkEnd();
      case 'trailers':
        return this.readTrailers();
      case 'until-close':
        this.addBody(this.pending);
        this.pending = EMPTY;
        return false;
      default:
        return false;
    }
  }

  private readHead(): boolean {
    // Something that is not HTTP (a TLS server spoken to in plain text, say) is refused on its
    // first bytes, not after waiting for a blank line that may never come.
    // Read as a string once (one byte, one character): string searches cost nothing to set up,
    // where Buffer's compare and indexOf each cost a first call ~0.15 ms of a rollback.
    const text = this.pending.toString(
      'latin1',
      0,
      Math.min(this.pending.length, this.limits.maxHeaderBytes + 1),
    );
    if (!text.startsWith(HTTP_PREFIX.slice(0, text.length))) {
      throw bad(`it starts with ${JSON.stringify(text.slice(0, 16))}`, false);
    }
    const end = text.indexOf(HEAD_END);
    const size = end < 0 ? this.pending.length : end + HEAD_END.length;
    if (size > this.limits.maxHeaderBytes) {
      throw bad(`status line and headers over ${this.limits.maxHeaderBytes} bytes`, false);
    }
    if (end < 0) return false;
    const head = text.slice(0, end);
    this.pending = this.pending.subarray(end + HEAD_END.length);
    const lines = head.split('\r\n');
    const statusLine = lines[0] ?? '';
    const match = STATUS_LINE.exec(statusLine);
    if (!match) throw bad(`status line ${JSON.stringify(statusLine.slice(0, 60))}`, false);
    const minor = match[1];
    const status = Number(match[2]);
    const headers: Record<string, string> = {};
    const lengths: string[] = [];
    const codings: string[] = [];
    const connection: string[] = [];
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      if (line.startsWith(' ') || line.startsWith('\t'))
        throw bad('obsolete line folding in a header', false);
      const parsed = field(line);
      if (!parsed || BAD_VALUE.test(line))
        throw bad(`header line ${JSON.stringify(line.slice(0, 60))}`, false);
      const name = parsed[0].toLowerCase();
      const value = parsed[1];
      if (!(name in headers)) headers[name] = value;
      if (name === 'content-length') lengths.push(...value.split(',').map((v) => v.trim()));
      else if (name === 'transfer-encoding')
        codings.push(...value.split(',').map((v) => v.trim().toLowerCase()));
      else if (name === 'connection') connection.push(...value.split(',').map((v) => v.trim().toLowerCase()));
    }
    if (status < 200) {
      // 100 Continue or 103 Early Hints: an interim answer; the real one follows. 101 would
      // switch protocols, which canary never asks for.
      if (status === 101) throw bad('101 Switching Protocols to a request that asked for no upgrade', false);
      return true;
    }
    this.status = status;
    this.headers = headers;
    this.keepAlive = minor === '1' ? !connection.includes('close') : connection.includes('keep-alive');

    if (status === 204 || status === 304) {
      this.state = 'done';
    } else if (codings.length > 0) {
      // Transfer-Encoding overrides Content-Length; with both, the connection is not reused
      // (RFC 9112 6.3), since the two disagree about where the next response starts.
      if (lengths.length > 0) this.keepAlive = false;
      const chunkedAt = codings.indexOf('chunked');
      if (chunkedAt >= 0 && chunkedAt !== codings.length - 1) {
        throw bad('chunked is not the last transfer coding', true);
      }
      if (chunkedAt < 0) {
        this.keepAlive = false;
        this.state = 'until-close';
      } else {
        this.state = 'chunk-size';
      }
    } else if (lengths.length > 0) {
      const first = lengths[0] as string;
      if (!lengths.every((v) => /^\d{1,15}$/.test(v) && v === first)) {
        throw bad(`Content-Length ${JSON.stringify(lengths.join(', '))}`, true);
      }
      this.remaining = Number(first);
      this.checkBodySize(this.remaining);
      this.state = this.remaining === 0 ? 'done' : 'sized';
    } else {
      this.keepAlive = false;
      this.state = 'until-close';
    }
    return true;
  }

  /** Takes the `remaining` bytes of a sized body or of a chunk, then moves on to `next`. */
  private readCounted(next: State): boolean {
    if (this.pending.length === 0) return false;
    const take = Math.min(this.remaining, this.pending.length);
    this.addBody(this.pending.subarray(0, take));
    this.pending = this.pending.subarray(take);
    this.remaining -= take;
    if (this.remaining > 0) return false;
    this.state = next;
    return true;
  }

  private readChunkSize(): boolean {
    const end = this.pending.indexOf(CRLF);
    if (end < 0) {
      if (this.pending.length > MAX_CHUNK_LINE) throw bad('a chunk-size line that does not end', true);
      return false;
    }
    const line = this.pending.toString('latin1', 0, end);
    this.pending = this.pending.subarray(end + CRLF.length);
    const match = CHUNK_SIZE.exec(line);
    if (!match) throw bad(`chunk size ${JSON.stringify(line.slice(0, 40))}`, true);
    const size = Number.parseInt(match[1] as string, 16);
    this.checkBodySize(this.bodyBytes + size);
    this.remaining = size;
    this.state = size === 0 ? 'trailers' : 'chunk-data';
    return true;
  }

  private readChunkEnd(): boolean {
    if (this.pending.length < CRLF.length) return false;
    if (this.pending[0] !== 0x0d || this.pending[1] !== 0x0a)
      throw bad('chunk data longer than its size', true);
    this.pending = this.pending.subarray(CRLF.length);
    this.state = 'chunk-size';
    return true;
  }

  /** Trailer fields after the last chunk carry nothing canary reads; they end with an empty line. */
  private readTrailers(): boolean {
    const end = this.pending.indexOf(CRLF);
    const read = end < 0 ? this.pending.length : end + CRLF.length;
    if (this.trailerBytes + read > this.limits.maxHeaderBytes) {
      throw bad(`trailers over ${this.limits.maxHeaderBytes} bytes`, true);
    }
    if (end < 0) return false;
    this.trailerBytes += read;
    const line = this.pending.toString('latin1', 0, end);
    this.pending = this.pending.subarray(end + CRLF.length);
    if (line === '') {
      this.state = 'done';
      return true;
    }
    if (!field(line) || BAD_VALUE.test(line))
      throw bad(`trailer line ${JSON.stringify(line.slice(0, 60))}`, true);
    return true;
  }

  private addBody(part: Buffer): void {
    if (part.length === 0) return;
    this.checkBodySize(this.bodyBytes + part.length);
    this.bodyParts.push(part);
    this.bodyBytes += part.length;
  }

  private checkBodySize(bytes: number): void {
    if (bytes > this.limits.maxBodyBytes) {
      throw new TransportError(
        'BODY_TOO_LARGE',
        `the answer's body is over ${this.limits.maxBodyBytes} bytes, more than any relay answer`,
        { responded: true },
      );
    }
  }
}
