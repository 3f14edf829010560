import { Injectable, PipeTransform } from '@nestjs/common';
import { API_KEY_PATTERN } from '../../common/auth/authorization-header';
import { errors } from '../../common/errors/app.exception';

@Injectable()
export class ApiKeyParamPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!API_KEY_PATTERN.test(value)) throw errors.validation('apiKey: NCS로 시작하는 16자리 API 키여야 합니다.');
    return value;
  }
}
