import { isIPv6 } from 'node:net';
import { contextBefore, type Detection } from './types.js';

/** IPv4 and IPv6 addresses; version strings ("v1.2.3.4", "Version 10.0.0.1") are not addresses. */

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
/** Sticky: tried only where an address can start (see detectIpAddresses). */
const IPV4 = new RegExp(`(?<![\\w.])${OCTET}(?:\\.${OCTET}){3}(?![\\w]|\\.\\d)`, 'y');
const IPV6 = /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{0,4}|\d{1,3}(?:\.\d{1,3}){3})(?![\w:])/y;
const VERSION = /(?:\bv|version|ver\.|release|build|firmware|update)\s*:?\s*$/i;

const isDigit = (code: number): boolean => code >= 48 && code <= 57;
const isHex = (code: number): boolean => isDigit(code) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102);

/**
 * Fast path: the patterns are not run over the whole text (at every character, most of the cost
 * on a long prompt) but tried once per `.` between digits (IPv4) or per `:` followed by a second
 * one within four hex digits (IPv6), at the only place such an address could start: where the
 * digit (hex) run before that first separator begins. The matches are the same, left to right.
 */
export function detectIpAddresses(text: string): Detection[] {
  const out: Detection[] = [];
  let from = 0;
  for (let dot = text.indexOf('.', 1); dot >= 0; dot = text.indexOf('.', Math.max(dot + 1, from))) {
    if (!isDigit(text.charCodeAt(dot - 1)) || !isDigit(text.charCodeAt(dot + 1))) continue;
    let start = dot - 1;
    while (start > 0 && dot - start < 3 && isDigit(text.charCodeAt(start - 1))) start--;
    if (start < from) continue;
    IPV4.lastIndex = start;
    const match = IPV4.exec(text);
    if (match === null) continue;
    from = start + match[0].length;
    if (contextBefore(text, start, VERSION, 20)) continue;
    out.push({ type: 'ip_address', start, end: from, confidence: 0.9 });
  }
  from = 0;
  for (let colon = text.indexOf(':'); colon >= 0; colon = text.indexOf(':', Math.max(colon + 1, from))) {
    let next = colon + 1;
    while (next - colon <= 4 && isHex(text.charCodeAt(next))) next++;
    if (text.charCodeAt(next) !== 58) continue;
    let start = colon;
    while (start > 0 && colon - start < 4 && isHex(text.charCodeAt(start - 1))) start--;
    if (start < from) continue;
    IPV6.lastIndex = start;
    const match = IPV6.exec(text);
    if (match === null) continue;
    const candidate = match[0];
    from = start + candidate.length;
    if (!isIPv6(candidate) || !/[0-9A-Fa-f]/.test(candidate)) continue;
    if (!candidate.includes('::') && candidate.split(':').length < 8 && !candidate.includes('.')) continue;
    out.push({ type: 'ip_address', start, end: from, confidence: 0.95 });
  }
  return out;
}
