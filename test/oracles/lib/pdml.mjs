// A minimal reader for tshark's PDML (`tshark -T pdml`): a tree of <packet>, <proto> and <field>
// elements whose data is all in attributes. Enough XML for what Wireshark writes (attribute
// values always double-quoted and entity-escaped, no text content, no CDATA); not a general parser.

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const unescape = (s) =>
  s.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);/g, (m, e) =>
    e[0] === '#' ? String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)) : (ENTITIES[e] ?? m));

/** Parses PDML text into its root element: { tag, attrs, children }. */
export function parsePdml(text) {
  const root = { tag: '#root', attrs: {}, children: [] };
  const stack = [root];
  const tagRe = /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*"[^"]*")*)\s*(\/?)>|<\?[\s\S]*?\?>|<!--[\s\S]*?-->/g;
  const attrRe = /([\w.:-]+)\s*=\s*"([^"]*)"/g;
  for (const m of text.matchAll(tagRe)) {
    if (!m[2]) continue; // declaration, processing instruction or comment
    const [, close, tag, attrText, selfClose] = m;
    if (close) {
      if (stack.length > 1 && stack[stack.length - 1].tag === tag) stack.pop();
      else throw new Error(`PDML: unexpected </${tag}>`);
      continue;
    }
    const attrs = {};
    for (const a of attrText.matchAll(attrRe)) attrs[a[1]] = unescape(a[2]);
    const el = { tag, attrs, children: [] };
    stack[stack.length - 1].children.push(el);
    if (!selfClose) stack.push(el);
  }
  if (stack.length !== 1) throw new Error('PDML: truncated document');
  return root;
}

/** Every element below `el` (depth first, document order) for which `pred` holds. */
export function findAll(el, pred, out = []) {
  for (const c of el.children) {
    if (pred(c)) out.push(c);
    findAll(c, pred, out);
  }
  return out;
}

/** The first field named `name` below `el`, or undefined. */
export const field = (el, name) => findAll(el, (c) => c.tag === 'field' && c.attrs.name === name)[0];

/** The <packet> elements of a PDML document. */
export const packets = (root) => findAll(root, (c) => c.tag === 'packet');
