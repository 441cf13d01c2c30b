import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsOptional, IsString, MaxLength, MinLength, ValidateNested } from 'class-validator';

/** What one connected integration contributed to a brief. */
export class ContentSourceDto {
  @IsString() @MinLength(1) @MaxLength(50)
  provider!: string;

  @IsString() @MaxLength(10_000)
  summary!: string;
}

/** Body of POST /content. */
export class CreateContentDto {
  @IsString() @MinLength(1) @MaxLength(100)
  brief_id!: string;

  @IsString() @MinLength(1) @MaxLength(100)
  user_id!: string;

  @IsOptional() @IsArray() @ArrayMaxSize(20) @ValidateNested({ each: true }) @Type(() => ContentSourceDto)
  sources?: ContentSourceDto[];

  @IsOptional() @IsString() @MaxLength(4000)
  prompt?: string;
}
