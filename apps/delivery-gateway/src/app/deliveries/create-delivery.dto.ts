import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

export const DELIVERY_CHANNELS = ['slack', 'email', 'sms'] as const;
export type DeliveryChannel = (typeof DELIVERY_CHANNELS)[number];

/** Body of POST /deliveries. */
export class CreateDeliveryDto {
  @IsString() @MinLength(1) @MaxLength(100)
  @ApiProperty()
  brief_id!: string;

  @IsString() @MinLength(1) @MaxLength(100)
  @ApiProperty()
  user_id!: string;

  @IsIn(DELIVERY_CHANNELS, { message: 'channel must be one of slack, email, sms' })
  @ApiProperty({ enum: DELIVERY_CHANNELS })
  channel!: DeliveryChannel;

  @IsString() @MinLength(1) @MaxLength(320)
  @ApiProperty()
  recipient!: string;

  @IsOptional() @IsString() @MaxLength(20_000)
  @ApiPropertyOptional()
  text?: string;

  @IsOptional() @IsString() @MaxLength(100)
  @ApiPropertyOptional()
  audio_id?: string;
}
