import { inspectJson, syntaxErrorMessage } from './json-parser.js';

describe('inspectJson: what a JSON body is refused for, and where', () => {
  const parse = (text: string) => inspectJson(JSON.parse(text), 4);

  it('accepts ordinary bodies, nested up to the limit', () => {
    expect(parse('{"roundId": "x", "answers": {"education": "none", "obstacles": ["unknown"]}}')).toBeUndefined();
    expect(parse('{"a": {"b": {"c": {"d": 1}}}}')).toBeUndefined();
    expect(parse('[]')).toBeUndefined();
    expect(parse('"text"')).toBeUndefined();
  });

  it('names every key that is a member of Object.prototype, "prototype" included, at any depth', () => {
    const r = parse('{"prototype": [], "answers": {"__proto__": {"admin": true}, "ok": 1}, "rows": [{"constructor": 1}, {"toString": 2}]}');
    expect(r?.code).toBe('VAGEN_JSON_FORBIDDEN_KEY');
    expect(r?.detail).toBe('The JSON key "prototype" is not allowed.');
    expect(r?.errors).toEqual([
      { path: 'prototype', message: 'the key "prototype" is not allowed' },
      { path: 'answers.__proto__', message: 'the key "__proto__" is not allowed' },
      { path: 'rows.0.constructor', message: 'the key "constructor" is not allowed' },
      { path: 'rows.1.toString', message: 'the key "toString" is not allowed' },
    ]);
  });

  it('leaves keys that merely resemble them alone (the DTO decides about those)', () => {
    expect(parse('{"proto": 1, "Constructor": 2, "to_string": 3, "prototypes": 4}')).toBeUndefined();
  });

  it('names the NUL character in strings and in keys', () => {
    const r = parse('{"reason": "a\\u0000b", "answers": {"x\\u0000": "y"}, "list": ["ok", "\\u0000"]}');
    expect(r?.code).toBe('VAGEN_JSON_NUL');
    expect(r?.errors.map((e) => e.path)).toEqual(['reason', 'answers.x\u0000', 'list.1']);
    expect(inspectJson('\u0000', 4)?.errors).toEqual([{ path: 'body', message: 'must not contain the NUL character (\\u0000)' }]);
  });

  it('refuses nesting deeper than the limit, and does not walk below it', () => {
    const r = parse('{"a": {"b": {"c": {"d": {"e": {"__proto__": 1}}}}}}');
    expect(r?.code).toBe('VAGEN_JSON_TOO_DEEP');
    expect(r?.errors).toEqual([{ path: 'a.b.c.d', message: 'is nested deeper than 4 levels' }]);
    expect(inspectJson(JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), 16)?.code).toBe('VAGEN_JSON_TOO_DEEP');
  });

  it('names at most 50 places', () => {
    const body = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`f${i}`, '\u0000']));
    expect(inspectJson(body, 4)?.errors).toHaveLength(50);
  });
});

describe('syntaxErrorMessage: where malformed JSON broke', () => {
  const message = (text: string) => {
    try {
      JSON.parse(text);
    } catch (e) {
      return syntaxErrorMessage(text, e);
    }
    throw new Error('parsed');
  };

  it('gives the reason with line and column, and never quotes the body', () => {
    expect(message('{"a": 1')).toBe("is not valid JSON: Expected ',' or '}' after property value (line 1, column 8)");
    expect(message('{\n  "a": 1,\n  }')).toMatch(/\(line 3, column 3\)$/);
    expect(message('{"a": 1}}')).toBe('is not valid JSON: Unexpected non-whitespace character after the JSON value (line 1, column 9)');
    const quoting = message('{"pin": 19121212-1212}');
    expect(quoting).toMatch(/^is not valid JSON: /);
    expect(quoting).not.toContain('1212');
    expect(message('')).toBe('is not valid JSON: Unexpected end of JSON input');
  });
});
