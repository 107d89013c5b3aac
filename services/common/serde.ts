import avro from 'avsc';
import { SchemaRegistry, SchemaType, COMPATIBILITY } from '@kafkajs/confluent-schema-registry';
import { avroType, schemaText } from './schemas';
import type { TopicSpec } from './topics';

/** Why a record on a topic could not be decoded; the failed-events topic carries the code. */
export type DecodeFailure = 'not_wire_format' | 'unknown_schema' | 'incompatible_schema' | 'corrupt_payload';

export class DecodeError extends Error {
  constructor(
    readonly code: DecodeFailure,
    message: string,
  ) {
    super(message);
    this.name = 'DecodeError';
  }
}

/** One reason a value does not match its schema, with the field path (e.g. `reasons.0.code`). */
export interface FieldError {
  path: string;
  message: string;
}

const MAGIC_BYTE = 0;
const HEADER_BYTES = 5;
/** Shared by encode(); Node runs one encode at a time per thread. Byte 0 stays the magic byte. */
const SCRATCH = Buffer.alloc(64 * 1024);

/**
 * Avro in the Confluent wire format (magic byte 0, 4-byte schema id, Avro binary) for the
 * declared topics. Schemas are registered once at start-up under `<topic>-value` with
 * BACKWARD compatibility, so encoding needs no network. Decoding resolves the writer's
 * schema (fetched once per id) into this build's reader schema, so old and new producers
 * can share a topic.
 */
export class AvroSerde {
  private readonly writers = new Map<number, avro.Type>();
  private readonly resolvers = new Map<string, avro.Resolver>();

  private constructor(
    private readonly registry: SchemaRegistry,
    private readonly topics: Map<string, { id: number; type: avro.Type }>,
  ) {}

  static async create(registryUrl: string, specs: TopicSpec[]): Promise<AvroSerde> {
    const registry = new SchemaRegistry({ host: registryUrl, retry: { retries: 3 } });
    const topics = new Map<string, { id: number; type: avro.Type }>();
    for (const spec of specs) {
      const { id } = await registry.register(
        { type: SchemaType.AVRO, schema: schemaText(spec.schema) },
        { subject: `${spec.name}-value`, compatibility: COMPATIBILITY.BACKWARD },
      );
      topics.set(spec.name, { id, type: avroType(spec.schema) });
    }
    return new AvroSerde(registry, topics);
  }

  /** The registry id of the schema this build writes to `topic`. */
  schemaId(topic: string): number {
    return this.topic(topic).id;
  }

  /** Every mismatch between `value` and the topic's schema, with field paths; empty when valid. */
  validate(topic: string, value: unknown): FieldError[] {
    const errors: FieldError[] = [];
    this.topic(topic).type.isValid(value, {
      errorHook: (path, val, type) => {
        errors.push({ path: path.join('.'), message: describeMismatch(val, type) });
      },
    });
    return errors;
  }

  /** Encodes a value already validated against the topic's schema (throws otherwise). */
  encode(topic: string, value: unknown): Buffer {
    const { id, type } = this.topic(topic);
    // Encode straight after the header in a reused scratch buffer, then copy once.
    SCRATCH.writeInt32BE(id, 1);
    const end = type.encode(value, SCRATCH, HEADER_BYTES);
    if (end > 0) return Buffer.from(SCRATCH.subarray(0, end));
    const body = type.toBuffer(value); // larger than the scratch buffer: rare
    return Buffer.concat([SCRATCH.subarray(0, HEADER_BYTES), body]);
  }

  /** Decodes a record value of `topic` into this build's schema; throws DecodeError. */
  async decode<T>(topic: string, buf: Buffer | null): Promise<T> {
    if (!buf || buf.length < HEADER_BYTES || buf.readUInt8(0) !== MAGIC_BYTE) {
      throw new DecodeError(
        'not_wire_format',
        'value is not in the Confluent Avro wire format (magic byte 0 + schema id)',
      );
    }
    const writerId = buf.readInt32BE(1);
    const reader = this.topic(topic);
    const resolver = await this.resolver(writerId, reader);
    try {
      return reader.type.fromBuffer(buf.subarray(HEADER_BYTES), resolver, true) as T;
    } catch (err) {
      throw new DecodeError(
        'corrupt_payload',
        `Avro body does not match schema ${writerId}: ${(err as Error).message}`,
      );
    }
  }

  private async resolver(
    writerId: number,
    reader: { id: number; type: avro.Type },
  ): Promise<avro.Resolver | undefined> {
    if (writerId === reader.id) return undefined;
    const key = `${writerId}>${reader.id}`;
    const cached = this.resolvers.get(key);
    if (cached) return cached;
    const writer = await this.writer(writerId);
    try {
      const resolver = reader.type.createResolver(writer);
      this.resolvers.set(key, resolver);
      return resolver;
    } catch (err) {
      throw new DecodeError(
        'incompatible_schema',
        `schema ${writerId} cannot be read as schema ${reader.id}: ${(err as Error).message}`,
      );
    }
  }

  private async writer(id: number): Promise<avro.Type> {
    const cached = this.writers.get(id);
    if (cached) return cached;
    let schema: unknown;
    try {
      schema = ((await this.registry.getSchema(id)) as unknown as { schema(): unknown }).schema();
    } catch (err) {
      // 404: the id is not registered, a property of the record. Anything else (registry
      // down) is transient and must not turn good records into failed events.
      if ((err as { status?: number }).status !== 404) throw err;
      throw new DecodeError('unknown_schema', `schema id ${id} is not in the schema registry`);
    }
    const type = avro.Type.forSchema(schema as avro.Schema);
    this.writers.set(id, type);
    return type;
  }

  private topic(topic: string): { id: number; type: avro.Type } {
    const t = this.topics.get(topic);
    if (!t) throw new Error(`topic ${topic} has no schema registered in this serde`);
    return t;
  }
}

function describeMismatch(value: unknown, type: avro.Type): string {
  if (type.typeName === 'enum') {
    const symbols = (type as unknown as { symbols: string[] }).symbols;
    return `expected one of ${symbols.join(', ')}, got ${JSON.stringify(value)}`;
  }
  const expected =
    type.typeName === 'union'
      ? (type as unknown as { types: avro.Type[] }).types.map((t) => t.typeName).join(' or ')
      : type.typeName;
  const got =
    value === undefined ? 'missing' : value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return `expected ${expected}, got ${got}`;
}
