import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsOptional, IsString, MaxLength, MinLength, ValidateNested } from 'class-validator';

/** What one connected integration contributed to a brief. */
export class ContentSourceDto {
  @IsString() @MinLength(1) @MaxLength(50)
  @ApiProperty()
  provider!: string;

  @IsString() @MaxLength(10_000)
  @ApiProperty()
  summary!: string;
}

/** Body of POST /content. */
export class CreateContentDto {
  @IsString() @MinLength(1) @MaxLength(100)
  @ApiProperty()
  brief_id!: string;

  @IsString() @MinLength(1) @MaxLength(100)
  @ApiProperty()
  user_id!: string;

  @IsOptional() @IsArray() @ArrayMaxSize(20) @ValidateNested({ each: true }) @Type(() => ContentSourceDto)
  @ApiPropertyOptional({ type: () => [ContentSourceDto] })
  sources?: ContentSourceDto[];

  @IsOptional() @IsString() @MaxLength(4000)
  @ApiPropertyOptional()
  prompt?: string;
}
