import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GatewayError } from '../../core/errors.js';
import { isEmptyObjectSchema, toGeminiSchema } from './schema.js';

const convert = (schema: unknown) => toGeminiSchema(schema, 'tools[0].function.parameters');

function refused(schema: unknown, message: RegExp): void {
  assert.throws(
    () => convert(schema),
    (error: unknown) => error instanceof GatewayError && error.status === 400 && error.param === 'tools[0].function.parameters' && message.test(error.message),
  );
}

describe('JSON Schema → Google Schema', () => {
  test('types become upper-case names; properties, required and items convert recursively', () => {
    assert.deepEqual(
      convert({
        type: 'object',
        properties: {
          city: { type: 'string', description: 'City' },
          days: { type: 'integer', minimum: 1, maximum: 14 },
          tags: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 3 },
          precise: { type: 'boolean' },
          ratio: { type: 'number' },
        },
        required: ['city', 'missing'],
      }),
      {
        type: 'OBJECT',
        properties: {
          city: { type: 'STRING', description: 'City' },
          days: { type: 'INTEGER', minimum: 1, maximum: 14 },
          tags: { type: 'ARRAY', items: { type: 'STRING' }, minItems: '1', maxItems: '3' },
          precise: { type: 'BOOLEAN' },
          ratio: { type: 'NUMBER' },
        },
        required: ['city'],
      },
    );
  });

  test('keywords Google lacks are dropped: additionalProperties, $schema, exclusiveMinimum, uniqueItems, strict', () => {
    assert.deepEqual(
      convert({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        additionalProperties: false,
        strict: true,
        properties: { n: { type: 'number', exclusiveMinimum: 0, multipleOf: 2 }, list: { type: 'array', uniqueItems: true, items: { type: 'string' } } },
      }),
      { type: 'OBJECT', properties: { n: { type: 'NUMBER' }, list: { type: 'ARRAY', items: { type: 'STRING' } } } },
    );
  });

  test('type arrays and null branches become nullable; several types become anyOf', () => {
    assert.deepEqual(convert({ type: ['string', 'null'] }), { type: 'STRING', nullable: true });
    assert.deepEqual(convert({ type: ['string', 'integer'] }), { anyOf: [{ type: 'STRING' }, { type: 'INTEGER' }] });
    assert.deepEqual(convert({ anyOf: [{ type: 'integer' }, { type: 'null' }], description: 'Days' }), { type: 'INTEGER', nullable: true, description: 'Days' });
    assert.deepEqual(convert({ oneOf: [{ type: 'string' }, { type: 'number' }] }), { anyOf: [{ type: 'STRING' }, { type: 'NUMBER' }] });
    assert.deepEqual(convert({ anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'null' }] }), { anyOf: [{ type: 'STRING' }, { type: 'NUMBER' }], nullable: true });
    assert.deepEqual(convert({ type: 'null' }), { type: 'NULL' });
  });

  test('local $refs are inlined, with the keywords beside them; pydantic\'s allOf of one is merged', () => {
    const schema = {
      type: 'object',
      $defs: { Unit: { type: 'string', enum: ['celsius', 'fahrenheit'] }, Place: { type: 'object', properties: { city: { type: 'string' } } } },
      definitions: { Legacy: { type: 'boolean' } },
      properties: {
        unit: { $ref: '#/$defs/Unit', description: 'Unit of measure' },
        place: { allOf: [{ $ref: '#/$defs/Place' }], description: 'Where' },
        legacy: { $ref: '#/definitions/Legacy' },
      },
    };
    assert.deepEqual(convert(schema), {
      type: 'OBJECT',
      properties: {
        unit: { type: 'STRING', enum: ['celsius', 'fahrenheit'], description: 'Unit of measure' },
        place: { type: 'OBJECT', properties: { city: { type: 'STRING' } }, description: 'Where' },
        legacy: { type: 'BOOLEAN' },
      },
    });
  });

  test('what cannot be expressed is refused with a 400 naming the field', () => {
    refused({ type: 'object', $defs: { Node: { type: 'object', properties: { next: { $ref: '#/$defs/Node' } } } }, properties: { head: { $ref: '#/$defs/Node' } } }, /recursive "\$ref"/);
    refused({ properties: { a: { $ref: 'https://example.com/schema.json' } } }, /cannot be resolved/);
    refused({ allOf: [{ type: 'object' }, { required: ['a'] }] }, /allOf/);
    refused({ type: 'date' }, /unknown type "date"/);
    refused('object', /JSON Schema object/);
  });

  test('const and enums: strings as enum, other values described', () => {
    assert.deepEqual(convert({ const: 'fixed' }), { type: 'STRING', enum: ['fixed'] });
    assert.deepEqual(convert({ type: 'integer', enum: [1, 2, 3], description: 'Level.' }), { type: 'INTEGER', description: 'Level. Allowed values: 1, 2, 3.' });
    assert.deepEqual(convert({ enum: ['a', null] }), { nullable: true, description: 'Allowed values: "a".' });
  });

  test('formats Google knows are kept, others dropped; examples become an example', () => {
    assert.deepEqual(convert({ type: 'string', format: 'date-time' }), { type: 'STRING', format: 'date-time' });
    assert.deepEqual(convert({ type: 'string', format: 'email', pattern: '^.+@.+$' }), { type: 'STRING', pattern: '^.+@.+$' });
    assert.deepEqual(convert({ type: 'integer', format: 'int64' }), { type: 'INTEGER', format: 'int64' });
    assert.deepEqual(convert({ type: 'string', examples: ['Köln', 'Bonn'], default: 'Köln', title: 'City' }), { type: 'STRING', example: 'Köln', default: 'Köln', title: 'City' });
  });

  test('tuples (prefixItems or an items array) become items with anyOf', () => {
    assert.deepEqual(convert({ type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }] }), { type: 'ARRAY', items: { anyOf: [{ type: 'STRING' }, { type: 'NUMBER' }] } });
    assert.deepEqual(convert({ type: 'array', items: [{ type: 'string' }] }), { type: 'ARRAY', items: { type: 'STRING' } });
  });

  test('an object without properties is recognised (Google refuses it as function parameters)', () => {
    assert.equal(isEmptyObjectSchema(convert({ type: 'object', properties: {} })), true);
    assert.equal(isEmptyObjectSchema(convert({ type: 'object', additionalProperties: true })), true);
    assert.equal(isEmptyObjectSchema(convert({ type: 'object', properties: { a: { type: 'string' } } })), false);
  });
});
