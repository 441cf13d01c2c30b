import { ArgumentMetadata, Injectable, PipeTransform, Type, ValidationPipe, ValidationPipeOptions } from '@nestjs/common';
import { getMetadataStorage, ValidationTypes } from 'class-validator';
import type { ValidationArguments, ValidatorConstraintInterface } from 'class-validator';

// class-transformer's metadata store, as @nestjs/mapped-types reads it (its types live apart from its code).
const { defaultMetadataStorage } = require('class-transformer/cjs/storage') as typeof import('class-transformer/types/storage');

/** Builds the validated instance of a DTO from a plain value, or answers undefined: "ask the real pipe". */
type CompiledCheck = (value: Record<string, unknown>) => object | undefined;

interface PropertyRule {
  property: string;
  /** IsOptional and ValidateIf: when one answers false, the property's other rules are skipped. */
  conditions: ((object: object, value: unknown) => boolean)[];
  /** IsDefined, then every other rule: the validator class-validator itself would call, with its arguments. */
  validators: { validator: ValidatorConstraintInterface; constraints: unknown[] }[];
}

/**
 * Nest's ValidationPipe with a fast path for the common case: for a DTO whose rules are all plain
 * synchronous class-validator checks (and that has no class-transformer decorators), the rules are read
 * once from class-validator's metadata and run directly on each request, on an instance built as
 * class-transformer would build it. Anything else, and any value that does not pass every rule or has a
 * property the DTO does not declare, goes to the real ValidationPipe, which answers exactly as it always
 * does (the same 400 body, the same instance). So the fast path can only accept what the real pipe accepts
 * and never writes an error of its own. (`compiled-validation.pipe.spec.ts` compares both on generated
 * values.) Options must be the workspace's: whitelist and forbidNonWhitelisted on, transform on, no groups.
 * The fast path answers the instance itself, not a promise of it: Nest awaits a pipe's answer either way,
 * and a promise returned from its async pipe chain costs two more microtask turns on every request.
 */
@Injectable()
export class CompiledValidationPipe implements PipeTransform<unknown, unknown> {
  private readonly compiled = new Map<Type<unknown>, CompiledCheck | null>();
  private readonly fastPathAllowed: boolean;
  private readonly pipe: ValidationPipe;

  constructor(options: ValidationPipeOptions) {
    this.pipe = new ValidationPipe(options);
    const { whitelist, forbidNonWhitelisted, transform, groups, always, strictGroups, skipMissingProperties, skipNullProperties, skipUndefinedProperties, stopAtFirstError, expectedType, validateCustomDecorators } = options;
    this.fastPathAllowed = whitelist === true && forbidNonWhitelisted === true && transform === true && !groups?.length && !always && !strictGroups && !skipMissingProperties && !skipNullProperties && !skipUndefinedProperties && !stopAtFirstError && !expectedType && !validateCustomDecorators;
  }

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    const { metatype, type } = metadata;
    if (this.fastPathAllowed && type !== 'custom' && typeof metatype === 'function' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      let check = this.compiled.get(metatype);
      if (check === undefined) {
        check = compileChecks(metatype);
        this.compiled.set(metatype, check);
      }
      const instance = check?.(value as Record<string, unknown>);
      if (instance) return instance;
    }
    return this.pipe.transform(value, metadata);
  }
}

const PRIMITIVE_TYPES = new Set([String, Boolean, Number, Array, Object, Buffer, Date] as unknown[]);

/** The fast check of `metatype`, or null when its rules are not all plain synchronous checks. */
export function compileChecks(metatype: Type<unknown>): CompiledCheck | null {
  if (PRIMITIVE_TYPES.has(metatype)) return null;
  const storage = getMetadataStorage();
  const metadatas = storage.getTargetValidationMetadatas(metatype, '', false, false, undefined);
  if (metadatas.length === 0) return null;
  if (hasTransformerMetadata(metatype, metadatas.map((m) => m.propertyName))) return null;
  const rules = new Map<string, PropertyRule>();
  for (const m of metadatas) {
    if (m.each || m.groups?.length || m.always !== undefined) return null;
    const rule = rules.get(m.propertyName) ?? { property: m.propertyName, conditions: [], validators: [] };
    rules.set(m.propertyName, rule);
    if (m.type === ValidationTypes.WHITELIST) continue;
    if (m.type === ValidationTypes.CONDITIONAL_VALIDATION) {
      rule.conditions.push(m.constraints[0] as PropertyRule['conditions'][number]);
      continue;
    }
    if (m.type !== ValidationTypes.CUSTOM_VALIDATION && m.type !== ValidationTypes.IS_DEFINED) return null;
    for (const constraint of storage.getTargetValidatorConstraints(m.constraintCls)) {
      if (constraint.async) return null;
      const entry = { validator: constraint.instance as ValidatorConstraintInterface, constraints: m.constraints };
      if (m.type === ValidationTypes.IS_DEFINED) rule.validators.unshift(entry);
      else rule.validators.push(entry);
    }
  }
  const allowed = new Set(rules.keys());
  const list = [...rules.values()];
  const ctor = metatype as new () => Record<string, unknown>;
  // Read once: a function's name is a runtime accessor call, and each validator's arguments carry it.
  const targetName = metatype.name;
  return (value) => {
    const instance = new ctor();
    for (const key of Object.keys(value)) {
      const given = value[key];
      // Undeclared (the real pipe names it), or not a primitive (class-transformer copies objects deeply).
      if (!allowed.has(key) || (given !== null && typeof given === 'object') || typeof instance[key] === 'function') return undefined;
      instance[key] = given;
    }
    for (const rule of list) {
      const v = instance[rule.property];
      if (!rule.conditions.every((condition) => condition(instance, v))) continue;
      for (const { validator, constraints } of rule.validators) {
        const args: ValidationArguments = { targetName, property: rule.property, object: instance, value: v, constraints };
        const ok = validator.validate(v, args);
        if (ok !== true) return undefined; // false, or a promise: the real pipe decides
      }
    }
    return instance;
  };
}

/** class-transformer decorators change how the instance is built: such DTOs always take the real pipe. */
function hasTransformerMetadata(metatype: Type<unknown>, properties: string[]): boolean {
  const s = defaultMetadataStorage;
  if (s.getExposedMetadatas(metatype).length > 0 || s.getExcludedMetadatas(metatype).length > 0) return true;
  return properties.some((p) => s.findTypeMetadata(metatype, p) !== undefined || s.findTransformMetadatas(metatype, p, 0).length > 0 || s.findTransformMetadatas(metatype, p, 1).length > 0);
}
