import { IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

export const DELIVERY_CHANNELS = ['slack', 'email', 'sms'] as const;
export type DeliveryChannel = (typeof DELIVERY_CHANNELS)[number];

/** Body of POST /deliveries. */
export class CreateDeliveryDto {
  @IsString() @MinLength(1) @MaxLength(100)
  brief_id!: string;

  @IsString() @MinLength(1) @MaxLength(100)
  user_id!: string;

  @IsIn(DELIVERY_CHANNELS, { message: 'channel must be one of slack, email, sms' })
  channel!: DeliveryChannel;

  @IsString() @MinLength(1) @MaxLength(320)
  recipient!: string;

  @IsOptional() @IsString() @MaxLength(20_000)
  text?: string;

  @IsOptional() @IsString() @MaxLength(100)
  audio_id?: string;
}
