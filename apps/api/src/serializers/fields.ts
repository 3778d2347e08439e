// Request bodies validated with Django REST framework's field rules and messages, so a DRF client
// sees the errors it knows. JSON-schema validation (ajv) cannot express them: DRF turns numbers
// into strings but rejects booleans, trims whitespace before checking for blanks, rejects NUL and
// lone surrogates (PostgreSQL rejects NUL in text), reads "5" as a primary key, and reports every
// problem of every field at once.
import { ApiError, validationFailed, type FieldErrors } from '../errors.js';
import { parsePythonInt } from '../pagination/params.js';

// The characters Python's str.strip() removes (str.isspace), which differ slightly from JavaScript's trim().
const PYTHON_WHITESPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const STRIP = new RegExp(`^[${PYTHON_WHITESPACE}]+|[${PYTHON_WHITESPACE}]+$`, 'g');
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

const REQUIRED = 'This field is required.';
const NULL = 'This field may not be null.';

/** The name Python gives the type of a JSON value, as DRF's messages show it. */
function pythonTypeName(value: unknown): string {
  if (value === null) return 'NoneType';
  if (Array.isArray(value)) return 'list';
  switch (typeof value) {
    case 'string':
      return 'str';
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(value) ? 'int' : 'float';
    default:
      return 'dict';
  }
}

function codePointLength(text: string): number {
  let length = 0;
  for (const _ of text) length += 1;
  return length;
}

/** Reads the fields of one JSON body, collecting DRF-style errors; finish() throws them all. */
export class BodyReader {
  private readonly data: Record<string, unknown>;
  private readonly errors: FieldErrors = {};

  /** `body` is what the JSON parser produced; undefined (no body) reads as `{}`, as in DRF. */
  constructor(body: unknown) {
    if (body === undefined) {
      this.data = {};
    } else if (body === null) {
      throw new ApiError(400, { non_field_errors: ['No data provided'] });
    } else if (typeof body !== 'object' || Array.isArray(body)) {
      throw new ApiError(400, {
        non_field_errors: [`Invalid data. Expected a dictionary, but got ${pythonTypeName(body)}.`],
      });
    } else {
      this.data = body as Record<string, unknown>;
    }
  }

  private present(name: string, required: boolean): unknown {
    if (Object.hasOwn(this.data, name)) return this.data[name];
    if (required) this.errors[name] = [REQUIRED];
    return undefined;
  }

  /** DRF CharField (trim_whitespace, no blanks, max_length): undefined when absent or invalid. */
  string(name: string, options: { maxLength: number; required: boolean }): string | undefined {
    const raw = this.present(name, options.required);
    if (raw === undefined) return undefined;
    if (raw === null) {
      this.errors[name] = [NULL];
      return undefined;
    }
    if (typeof raw !== 'string' && (typeof raw !== 'number' || !Number.isFinite(raw))) {
      this.errors[name] = ['Not a valid string.'];
      return undefined;
    }
    const value = String(raw).replace(STRIP, '');
    if (value === '') {
      this.errors[name] = ['This field may not be blank.'];
      return undefined;
    }
    const problems: string[] = [];
    if (codePointLength(value) > options.maxLength) {
      problems.push(`Ensure this field has no more than ${options.maxLength} characters.`);
    }
    if (value.includes('\u0000')) problems.push('Null characters are not allowed.');
    const surrogate = LONE_SURROGATE.exec(value);
    if (surrogate) {
      const code = surrogate[0].charCodeAt(0).toString(16).toUpperCase();
      problems.push(`Surrogate characters are not allowed: U+${code}.`);
    }
    if (problems.length > 0) {
      this.errors[name] = problems;
      return undefined;
    }
    return value;
  }

  /**
   * DRF PrimaryKeyRelatedField: an integer, or a string Python reads as one. Whether the row exists
   * is left to the database's foreign key (one round trip, and right under a concurrent delete);
   * ids no row can have (below 1, past 2^53) are refused here with the same message.
   */
  primaryKey(name: string, options: { required: boolean }): number | undefined {
    const raw = this.present(name, options.required);
    if (raw === undefined) return undefined;
    if (raw === null || raw === '') {
      this.errors[name] = [NULL];
      return undefined;
    }
    let id: number | undefined;
    let shown: string;
    if (typeof raw === 'number' && Number.isInteger(raw)) {
      shown = Number.isSafeInteger(raw) ? String(raw) : BigInt(raw).toString();
      id = raw;
    } else if (typeof raw === 'string' && parsePythonInt(raw) !== undefined) {
      shown = raw;
      const parsed = parsePythonInt(raw)!;
      id = parsed <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(parsed) : undefined;
    } else {
      this.errors[name] = [`Incorrect type. Expected pk value, received ${pythonTypeName(raw)}.`];
      return undefined;
    }
    if (id === undefined || id < 1 || !Number.isSafeInteger(id)) {
      this.errors[name] = [invalidPkMessage(shown)];
      return undefined;
    }
    return id;
  }

  /** Throws the collected errors as one 400, fields in the order they were read. */
  finish(): void {
    if (Object.keys(this.errors).length > 0) throw validationFailed(this.errors);
  }
}

export function invalidPkMessage(shown: string | number): string {
  return `Invalid pk "${shown}" - object does not exist.`;
}
