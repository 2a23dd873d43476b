// The counter against the server's own cases (shared/src/text.rs tests): node --test
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countableLength, URL_LENGTH } from './text.js';

test('counts as the server counts', () => {
  assert.equal(countableLength('hello'), 5);
  assert.equal(countableLength(''), 0);
  assert.equal(countableLength('https://example.org/a/very/long/path/that/goes/on/and/on/and/on'), URL_LENGTH);
  assert.equal(countableLength('see https://a.co'), 4 + URL_LENGTH);
  assert.equal(countableLength('https://a.example.'), URL_LENGTH + 1);
  assert.equal(countableLength('👍🏽'), 1);
  assert.equal(countableLength('👨‍👩‍👧'), 1);
  assert.equal(countableLength('🇯🇵'), 1);
  assert.equal(countableLength('cafe\u0301'), 4);
  assert.equal(countableLength('日本語'), 3);
  assert.equal(countableLength('@alice@a-very-long-domain.example'), '@alice'.length);
  assert.equal(countableLength('@alice #rust'), 12);
  assert.equal(countableLength('a\r\nb'), 3);
  assert.equal(countableLength('alice@example.org'), 17);
});
