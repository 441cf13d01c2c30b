import 'reflect-metadata';
import { ArgumentMetadata, BadRequestException, ValidationPipe } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength, ValidateNested } from 'class-validator';
import fc from 'fast-check';
import { CompiledValidationPipe, compileChecks } from './compiled-validation.pipe';

const OPTIONS = { whitelist: true, forbidNonWhitelisted: true, transform: true };

class BaseQuery {
  @IsString() @MinLength(1) @MaxLength(12) @Matches(/^[a-z_]+$/)
  user_id!: string;
}

/** Shaped like the services' DTOs: required and optional strings, a choice, a default, an integer. */
class ListQuery extends BaseQuery {
  @IsOptional() @IsIn(['gmail', 'slack'])
  provider?: string;

  @IsOptional() @IsInt() @Min(1) @Max(100)
  limit = 50;

  @IsOptional() @IsString() @MaxLength(5)
  cursor?: string;
}

/** class-transformer decides its values: never compiled. */
class TypedQuery {
  @IsOptional() @Type(() => Number) @IsInt()
  count?: number;
}

class Inner {
  @IsString()
  name!: string;
}
class NestedBody {
  @ValidateNested() @Type(() => Inner)
  inner!: Inner;
}

// Each property is usually valid and sometimes anything at all, so that single broken rules are common.
const anything = fc.oneof(fc.string({ maxLength: 14 }), fc.integer({ min: -1000, max: 1000 }), fc.double(), fc.boolean(), fc.constant(null), fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), { maxKeys: 2 }), fc.array(fc.integer(), { maxLength: 2 }));
const field = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ arbitrary: valid, weight: 3 }, { arbitrary: anything, weight: 1 });
const FIELDS: Record<string, fc.Arbitrary<unknown>> = {
  user_id: field(fc.stringMatching(/^[a-z_]{1,12}$/)),
  provider: field(fc.constantFrom('gmail', 'slack')),
  limit: field(fc.integer({ min: 1, max: 100 })),
  count: field(fc.integer({ min: 1, max: 100 })),
  cursor: field(fc.string({ maxLength: 5 })),
};
/** Values for a DTO declaring `declared`; an undeclared property in about a sixth of them. */
const plainFor = (declared: string[]) =>
  fc
    .tuple(fc.record(Object.fromEntries(declared.map((k) => [k, FIELDS[k]])), { requiredKeys: [] }), fc.option(anything, { freq: 5 }))
    .map(([o, extra]) => JSON.parse(JSON.stringify(extra === null ? o : { ...o, extra })) as Record<string, unknown>);

type Outcome = { ok: true; instance: unknown; ctor: unknown } | { ok: false; status: number; body: unknown };
async function outcome(run: () => Promise<unknown> | unknown): Promise<Outcome> {
  try {
    const instance = await run();
    return { ok: true, instance: { ...(instance as object) }, ctor: (instance as object).constructor };
  } catch (err) {
    if (!(err instanceof BadRequestException)) throw err;
    return { ok: false, status: err.getStatus(), body: err.getResponse() };
  }
}

describe('CompiledValidationPipe', () => {
  const real = new ValidationPipe(OPTIONS);
  const fast = new CompiledValidationPipe(OPTIONS);

  it('answers exactly as the real ValidationPipe on generated values (same instance, same 400 body)', async () => {
    let accepted = 0;
    let rejected = 0;
    const cases = [
      [ListQuery, ['user_id', 'provider', 'limit', 'cursor']],
      [BaseQuery, ['user_id']],
      [TypedQuery, ['count']],
    ] as const;
    for (const [metatype, declared] of cases) {
      const metadata: ArgumentMetadata = { type: 'query', metatype };
      await fc.assert(
        fc.asyncProperty(plainFor([...declared]), async (value) => {
          const expected = await outcome(() => real.transform(structuredClone(value), metadata));
          const actual = await outcome(() => fast.transform(structuredClone(value), metadata));
          expect(actual).toEqual(expected);
          if (expected.ok) accepted += 1;
          else rejected += 1;
        }),
        { numRuns: 400, seed: 17 },
      );
    }
    // Both sides of the comparison were exercised, not only the error path.
    expect(accepted).toBeGreaterThan(50);
    expect(rejected).toBeGreaterThan(50);
  });

  it('takes the fast path for a valid plain value, and the real pipe for everything it cannot prove', () => {
    const check = compileChecks(ListQuery);
    expect(check).not.toBeNull();
    const instance = check?.({ user_id: 'ab_c', provider: 'slack' });
    expect(instance).toBeInstanceOf(ListQuery);
    expect({ ...instance }).toEqual({ user_id: 'ab_c', provider: 'slack', limit: 50 });
    expect(check?.({ user_id: 'ab_c', extra: 1 })).toBeUndefined(); // undeclared: the real pipe names it
    expect(check?.({ user_id: 'ABC' })).toBeUndefined(); // fails a rule
    expect(check?.({ user_id: 'ab_c', cursor: { a: 1 } })).toBeUndefined(); // an object: class-transformer copies it
    expect(compileChecks(TypedQuery)).toBeNull();
    expect(compileChecks(NestedBody)).toBeNull();
  });

  it('answers a value it accepts at once (no promise for Nest to unwrap), and what it hands on as the real pipe does', async () => {
    const metadata: ArgumentMetadata = { type: 'query', metatype: ListQuery };
    const accepted = fast.transform({ user_id: 'ab_c' }, metadata);
    expect(accepted).toBeInstanceOf(ListQuery);
    const handedOn = fast.transform({ user_id: 'ABC' }, metadata);
    expect(handedOn).toBeInstanceOf(Promise);
    await expect(handedOn).rejects.toBeInstanceOf(BadRequestException);
  });

  it('keeps the real pipe for bodies it never compiles (nested DTOs)', async () => {
    const metadata: ArgumentMetadata = { type: 'body', metatype: NestedBody };
    const value = { inner: { name: 'a' } };
    expect(await outcome(() => fast.transform(structuredClone(value), metadata))).toEqual(await outcome(() => real.transform(structuredClone(value), metadata)));
    const bad = { inner: { name: 1 } };
    expect(await outcome(() => fast.transform(structuredClone(bad), metadata))).toEqual(await outcome(() => real.transform(structuredClone(bad), metadata)));
  });
});
