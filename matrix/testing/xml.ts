/**
 * A strict parser for the XML subset our reports use (prolog, elements, attributes, text,
 * predefined and numeric entities, comments): enough to prove junit.xml is well formed and to read
 * it back in tests. Anything outside that subset, or malformed, throws with the offset.
 */

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function isNameStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c === ':';
}

function isNameChar(c: string): boolean {
  return isNameStart(c) || (c >= '0' && c <= '9') || c === '-' || c === '.';
}

function isXmlChar(code: number): boolean {
  return code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || code >= 0x10000;
}

class XmlReader {
  pos = 0;
  constructor(private readonly src: string) {
    for (const ch of src) {
      const code = ch.codePointAt(0) ?? 0;
      if (!isXmlChar(code)) throw new Error(`character U+${code.toString(16).padStart(4, '0')} is not allowed in XML 1.0`);
    }
  }

  fail(what: string): never {
    throw new Error(`XML: ${what} at offset ${this.pos}`);
  }

  peek(s: string): boolean {
    return this.src.startsWith(s, this.pos);
  }

  expect(s: string): void {
    if (!this.peek(s)) this.fail(`expected "${s}"`);
    this.pos += s.length;
  }

  skipSpace(): void {
    while (this.pos < this.src.length && ' \t\r\n'.includes(this.src[this.pos] ?? '')) this.pos++;
  }

  skipMisc(): void {
    for (;;) {
      this.skipSpace();
      if (this.peek('<!--')) {
        const end = this.src.indexOf('-->', this.pos + 4);
        if (end < 0) this.fail('unterminated comment');
        this.pos = end + 3;
      } else return;
    }
  }

  name(): string {
    const start = this.pos;
    if (!isNameStart(this.src[this.pos] ?? '')) this.fail('expected a name');
    while (isNameChar(this.src[this.pos] ?? '')) this.pos++;
    return this.src.slice(start, this.pos);
  }

  /** Decodes text up to `stop`, resolving entities; a bare `&` or `<` is an error. */
  chars(stop: string): string {
    let out = '';
    while (this.pos < this.src.length && !this.peek(stop)) {
      const c = this.src[this.pos] ?? '';
      if (c === '<') this.fail('"<" in text or attribute value');
      if (c === '&') {
        const end = this.src.indexOf(';', this.pos);
        if (end < 0) this.fail('unterminated entity');
        const ref = this.src.slice(this.pos + 1, end);
        if (ref.startsWith('#x')) out += String.fromCodePoint(Number.parseInt(ref.slice(2), 16));
        else if (ref.startsWith('#')) out += String.fromCodePoint(Number.parseInt(ref.slice(1), 10));
        else if (ref in PREDEFINED) out += PREDEFINED[ref];
        else this.fail(`unknown entity "&${ref};"`);
        this.pos = end + 1;
      } else {
        out += c;
        this.pos++;
      }
    }
    return out;
  }

  element(): XmlElement {
    this.expect('<');
    const el: XmlElement = { name: this.name(), attributes: {}, children: [], text: '' };
    for (;;) {
      this.skipSpace();
      if (this.peek('/>')) {
        this.pos += 2;
        return el;
      }
      if (this.peek('>')) break;
      const attr = this.name();
      if (attr in el.attributes) this.fail(`duplicate attribute "${attr}"`);
      this.skipSpace();
      this.expect('=');
      this.skipSpace();
      const quote = this.src[this.pos];
      if (quote !== '"' && quote !== "'") this.fail('expected a quoted attribute value');
      this.pos++;
      el.attributes[attr] = this.chars(quote);
      this.expect(quote);
    }
    this.pos++;
    for (;;) {
      if (this.peek('</')) {
        this.pos += 2;
        const closing = this.name();
        if (closing !== el.name) this.fail(`</${closing}> closes <${el.name}>`);
        this.skipSpace();
        this.expect('>');
        return el;
      }
      if (this.peek('<!--')) this.skipMisc();
      else if (this.peek('<')) el.children.push(this.element());
      else if (this.pos >= this.src.length) this.fail(`unclosed <${el.name}>`);
      else el.text += this.chars('<');
    }
  }
}

export function parseXml(src: string): XmlElement {
  const reader = new XmlReader(src);
  if (reader.peek('<?xml')) {
    const end = src.indexOf('?>');
    if (end < 0) reader.fail('unterminated XML declaration');
    reader.pos = end + 2;
  }
  reader.skipMisc();
  const root = reader.element();
  reader.skipMisc();
  if (reader.pos !== src.length) reader.fail('content after the root element');
  return root;
}
