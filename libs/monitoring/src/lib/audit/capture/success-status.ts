import { ExecutionContext, HttpStatus, RequestMethod } from '@nestjs/common';
import { HTTP_CODE_METADATA, METHOD_METADATA } from '@nestjs/common/constants';

/** The status a route answers on success: its @HttpCode, else 201 for POST and 200 otherwise. */
export function successStatus(context: ExecutionContext): number {
  const handler = context.getHandler();
  const explicit = Reflect.getMetadata(HTTP_CODE_METADATA, handler) as number | undefined;
  if (explicit) return explicit;
  return Reflect.getMetadata(METHOD_METADATA, handler) === RequestMethod.POST ? HttpStatus.CREATED : HttpStatus.OK;
}
