import { IsString, MaxLength, MinLength } from 'class-validator';

/** Body of POST /auth/login. */
export class LoginDto {
  @IsString() @MinLength(1) @MaxLength(100)
  user_id!: string;

  @IsString() @MinLength(1) @MaxLength(200)
  password!: string;
}
