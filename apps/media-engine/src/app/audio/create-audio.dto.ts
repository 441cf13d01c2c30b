import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';

/** Body of POST /audio. */
export class CreateAudioDto {
  @IsString() @MinLength(1) @MaxLength(100)
  @ApiProperty()
  brief_id!: string;

  @IsString() @MinLength(1) @MaxLength(100)
  @ApiProperty()
  user_id!: string;

  @IsString() @MinLength(1) @MaxLength(20_000)
  @ApiProperty()
  text!: string;

  @IsOptional() @IsString() @Matches(/^[\w-]{1,64}$/, { message: 'voice must be a voice id of letters, digits, _ or -' })
  @ApiPropertyOptional()
  voice?: string;
}
