import { formatNumber as formatCoreNumber } from '../../src/core/format';
import { visibleBidi } from '../../src/core/safeText';

/**
 * Builds DOM from data. Text only ever goes in through textContent: names,
 * params and metric keys come from runs and are hostile until proven otherwise.
 */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | undefined> = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === 'string' ? document.createTextNode(visibleBidi(child)) : child);
  }
  return node;
}

export function custom(tag: string, attrs: Record<string, string | boolean | undefined> = {}, ...children: (Node | string)[]): HTMLElement {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) if (value !== undefined && value !== false) node.setAttribute(key, value === true ? '' : value);
  node.append(...children);
  return node;
}

/** Five significant digits: the panel has room for them. */
export function formatNumber(value: number | null): string {
  return formatCoreNumber(value, '∞', 5);
}
