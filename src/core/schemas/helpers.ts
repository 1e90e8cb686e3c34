/**
 * TypeBox helpers for JSON-schema shapes TypeBox does not build directly; each keeps the plain JSON schema
 * that ajv (fastify's validator) and fast-json-stringify (its serializer) handle fastest, with a static type.
 */
import { Type, type Static, type TSchema, type TUnsafe } from 'typebox';

/** `{ type: 'string', enum: [...] }` typed as the union of its values (TypeBox's recommended string enum). */
export const StringEnum = <const T extends readonly string[]>(values: T, options: Record<string, unknown> = {}): TUnsafe<T[number]> =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });

/** `T` or null: `{ ...T, type: [T.type, 'null'] }` (a type array, not an anyOf). */
export const Nullable = <T extends TSchema & { type: string }>(schema: T): TUnsafe<Static<T> | null> =>
  Type.Unsafe<Static<T> | null>({ ...schema, type: [schema.type, 'null'] });

/** An object of any keys whose values all match `value`: `{ type: 'object', additionalProperties: value }`. */
export const Dictionary = <T extends TSchema>(value: T, options: Record<string, unknown> = {}): TUnsafe<Record<string, Static<T>>> =>
  Type.Unsafe<Record<string, Static<T>>>({ type: 'object', additionalProperties: value, ...options });
