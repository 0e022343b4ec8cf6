import { isIPv6 } from 'node:net';
import { contextBefore, eachMatch, type Detection } from './types.js';

/** IPv4 and IPv6 addresses; version strings ("v1.2.3.4", "Version 10.0.0.1") are not addresses. */

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`(?<![\\w.])${OCTET}(?:\\.${OCTET}){3}(?![\\w]|\\.\\d)`, 'g');
const IPV6 = /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{0,4}|\d{1,3}(?:\.\d{1,3}){3})(?![\w:])/g;
const VERSION = /(?:\bv|version|ver\.|release|build|firmware|update)\s*:?\s*$/i;

export function detectIpAddresses(text: string): Detection[] {
  const out: Detection[] = [];
  if (text.includes('.')) {
    eachMatch(text, IPV4, (match) => {
      if (contextBefore(text, match.index, VERSION, 20)) return null;
      return { type: 'ip_address', start: match.index, end: match.index + match[0].length, confidence: 0.9 };
    }, out);
  }
  if (text.includes(':')) {
    eachMatch(text, IPV6, (match) => {
      const candidate = match[0];
      if (!isIPv6(candidate) || !/[0-9A-Fa-f]/.test(candidate)) return null;
      if (!candidate.includes('::') && candidate.split(':').length < 8 && !candidate.includes('.')) return null;
      return { type: 'ip_address', start: match.index, end: match.index + candidate.length, confidence: 0.95 };
    }, out);
  }
  return out;
}
