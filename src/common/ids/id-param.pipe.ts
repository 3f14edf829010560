import { Injectable, PipeTransform } from '@nestjs/common';
import { errors } from '../errors/app.exception';
import { ID_PREFIXES, isId, type IdKind } from './ids';

/** A path ID of the given kind, or 400 (never a database error for a malformed ID). */
@Injectable()
export class IdParamPipe implements PipeTransform<string, string> {
  constructor(private readonly kind: IdKind) {}

  transform(value: string): string {
    if (!isId(value, this.kind)) throw errors.validation(`${this.kind}Id: ${ID_PREFIXES[this.kind]}로 시작하는 32자리 ID여야 합니다.`);
    return value;
  }
}
