// What cli-table3 gets for `require('string-width')` in every bundle (scripts/build.mjs,
// `asciiWidth`): printable ASCII (space to tilde) is one column a character, answered without
// string-width's work; anything else goes to string-width itself.
//
// Why: cli-table3 measures every cell several times, and string-width v4 runs each string through
// a new ANSI regex and emoji-regex's 10 KB pattern, from V8's regexp interpreter in a short
// process: about 0.5 ms of `canary status`'s 2 ms first table, for cells that are all ASCII
// without colour (-o plain, CI, logs). Neither regex can match a string of printable ASCII (an
// escape sequence starts with ESC or CSI, an emoji needs a code point above U+007F), so the
// width is its length, as string-width would count it (test/build/string-width-ascii.test.ts).
'use strict';
const stringWidth = require('string-width');

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

function width(string) {
  return typeof string === 'string' && PRINTABLE_ASCII.test(string) ? string.length : stringWidth(string);
}

module.exports = width;
module.exports.default = width;
