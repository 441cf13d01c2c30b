import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString, MaxLength, MinLength } from 'class-validator';

export const PROVIDERS = ['gmail', 'slack', 'quickbooks', 'salesforce'] as const;
export type Provider = (typeof PROVIDERS)[number];

/** Body of POST /integrations. */
export class ConnectIntegrationDto {
  @IsString() @MinLength(1) @MaxLength(100)
  @ApiProperty()
  user_id!: string;

  @IsIn(PROVIDERS, { message: 'provider must be one of gmail, slack, quickbooks, salesforce' })
  @ApiProperty({ enum: PROVIDERS })
  provider!: Provider;

  @IsString() @MinLength(1) @MaxLength(4096)
  @ApiProperty()
  access_token!: string;
}

/** Query of GET /integrations. */
export class ListIntegrationsQuery {
  @IsString() @MinLength(1) @MaxLength(100)
  @ApiProperty()
  user_id!: string;
}
