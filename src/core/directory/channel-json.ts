/**
 * Writes the ChannelFinder JSON of a channel slot straight from the index, without building CfChannel objects:
 * the same fields in the same order as toCfChannel + JSON.stringify, from pre-escaped parts. Escaped forms of
 * repeated strings (property heads, tags, interned values, IOC-level values) are cached; unique ones are not.
 */
import type { ChannelSlot, IocNode } from './nodes.js';
import type { PropertySource } from './properties.js';
import type { RenderContext } from './to-cf.js';

const PROP_TAIL = ',"channels":[]}';
// Interned values repeat across channels; past this many distinct ones the cache starts over.
const ESCAPED_MAX = 100_000;

interface IocParts {
  readonly stamp: number;
  readonly defs: number;
  /** Per catalogue index: the whole property fragment of an IOC-level property, '' when absent. */
  readonly frags: string[];
}

/** Renders slots to JSON text; `defsStamp` must change whenever a property or tag definition changes. */
export class ChannelJsonWriter {
  private readonly escaped = new Map<string, string>();
  private heads = new Map<string, string>();
  private tags = new Map<string, string>();
  private readonly iocs = new WeakMap<IocNode, IocParts>();
  private defs = -1;
  private readonly ownerJson: string;

  constructor(private readonly ctx: RenderContext, private readonly defsStamp: () => number) {
    this.ownerJson = JSON.stringify(ctx.owner);
  }

  /** The JSON object of one channel followed by `suffix`, as one flat string. */
  write(slot: ChannelSlot, suffix = ''): string {
    const stamp = this.defsStamp();
    if (stamp !== this.defs) {
      this.defs = stamp;
      this.heads = new Map();
      this.tags = new Map();
    }
    const ctx = this.ctx;
    const parts: string[] = ['{"name":', JSON.stringify(slot.name), ',"owner":',
      slot.api === null ? this.ownerJson : this.esc(slot.api.owner), ',"properties":['];
    let n = 0;
    const win = slot.win;
    if (win !== null) {
      const iocParts = this.iocParts(win.ioc);
      const cat = ctx.catalogue;
      for (let i = 0; i < cat.length; i++) {
        const p = cat[i] as PropertySource;
        if (p.ofIoc !== undefined) {
          const frag = iocParts.frags[i] as string;
          if (frag === '') continue;
          if (n++ > 0) parts.push(',');
          parts.push(frag);
        } else {
          const value = p.get(slot);
          if (value === undefined) continue;
          if (n++ > 0) parts.push(',');
          parts.push(this.head(p.name), p.interned === true ? this.esc(value) : JSON.stringify(value), PROP_TAIL);
        }
      }
    }
    const api = slot.api;
    if (api !== null) {
      for (let i = 0; i < api.props.length; i += 2) {
        const name = api.props[i] as string;
        if (win !== null && ctx.managed.has(name)) continue;
        const head = this.head(name);
        if (head === '') continue; // not defined: hidden
        if (n++ > 0) parts.push(',');
        parts.push(head, this.esc(api.props[i + 1] as string), PROP_TAIL);
      }
    }
    parts.push('],"tags":[');
    if (api !== null) {
      let t = 0;
      for (const name of api.tags) {
        const frag = this.tag(name);
        if (frag === '') continue;
        if (t++ > 0) parts.push(',');
        parts.push(frag);
      }
    }
    parts.push(']}', suffix);
    return parts.join('');
  }

  // `{"name":N,"owner":O,"value":` for a property name, with the owner of its definition (managed properties are
  // always defined); '' when the property is not defined (its values are hidden).
  private head(name: string): string {
    let h = this.heads.get(name);
    if (h === undefined) {
      const owner = this.ctx.propertyOwner(name);
      h = owner === undefined ? '' : `{"name":${JSON.stringify(name)},"owner":${JSON.stringify(owner)},"value":`;
      this.heads.set(name, h);
    }
    return h;
  }

  // The whole fragment of a tag, or '' when the tag is not defined (its use is hidden).
  private tag(name: string): string {
    let f = this.tags.get(name);
    if (f === undefined) {
      const owner = this.ctx.tagOwner(name);
      f = owner === undefined ? '' : `{"name":${JSON.stringify(name)},"owner":${JSON.stringify(owner)},"channels":[]}`;
      this.tags.set(name, f);
    }
    return f;
  }

  private iocParts(ioc: IocNode): IocParts {
    const have = this.iocs.get(ioc);
    if (have !== undefined && have.stamp === ioc.stamp && have.defs === this.defs) return have;
    const ctx = this.ctx;
    const frags = ctx.catalogue.map((p) => {
      const value = p.ofIoc?.(ioc);
      return value === undefined ? '' : this.head(p.name) + JSON.stringify(value) + PROP_TAIL;
    });
    const parts = { stamp: ioc.stamp, defs: this.defs, frags };
    this.iocs.set(ioc, parts);
    return parts;
  }

  private esc(s: string): string {
    let e = this.escaped.get(s);
    if (e === undefined) {
      if (this.escaped.size >= ESCAPED_MAX) this.escaped.clear();
      e = JSON.stringify(s);
      this.escaped.set(s, e);
    }
    return e;
  }
}
