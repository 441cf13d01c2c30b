import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';

/** Body of POST /auth/login. */
export class LoginDto {
  @IsString() @MinLength(1) @MaxLength(100)
  @ApiProperty()
  user_id!: string;

  @IsString() @MinLength(1) @MaxLength(200)
  @ApiProperty()
  password!: string;
}

/** The answer of POST /auth/login: a session token for the demo user. */
export class Session {
  @ApiProperty() user_id!: string;
  @ApiProperty() token!: string;
}
