import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { IsInt } from 'class-validator';
import { MetricsService } from './metrics/metrics.service';

@Injectable()
class NeedsMetrics {
  constructor(readonly metrics: MetricsService) {}
}

class Dto {
  @IsInt() count!: number;
  @IsInt() label!: string;
}

describe('the compiler used by the tests (SWC, see .swcrc)', () => {
  it('emits design:paramtypes for decorated classes (Nest injects by constructor type)', () => {
    expect(Reflect.getMetadata('design:paramtypes', NeedsMetrics)).toEqual([MetricsService]);
  });

  it('emits design:type for decorated properties (class-transformer converts by it)', () => {
    expect(Reflect.getMetadata('design:type', Dto.prototype, 'count')).toBe(Number);
    expect(Reflect.getMetadata('design:type', Dto.prototype, 'label')).toBe(String);
  });
});
