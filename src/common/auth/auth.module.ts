import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { ApiKeyVerifier } from './api-key-verifier';
import { HmacAuthGuard } from './hmac-auth.guard';
import { RolesGuard } from './roles.guard';
import { SecretBox } from './secret-box';

@Global()
@Module({
  providers: [
    {
      provide: SecretBox,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        if (!config.masterKey) throw new Error('masterKey must be resolved before the app is built (resolveMasterKey)');
        return new SecretBox(config.masterKey);
      },
    },
    ApiKeyVerifier,
    HmacAuthGuard,
    RolesGuard,
  ],
  exports: [SecretBox, ApiKeyVerifier, HmacAuthGuard, RolesGuard],
})
export class AuthModule {}
