import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@neonpro/auth';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { jsonSchema } from '../docs/json-schema.js';
import { RateLimitTier } from '../rate-limit/rate-limit-tier.decorator.js';
import {
  type LoginBody,
  loginBodySchema,
  principalSchema,
  type RefreshBody,
  refreshBodySchema,
  type SessionResponse,
  sessionResponseSchema,
} from './auth.schema.js';
import { CurrentPrincipal, JwtAuthGuard } from './jwt-auth.guard.js';
import { SupabaseAuthService } from './supabase-auth.service.js';

@ApiTags('auth')
@Controller('v1')
export class AuthController {
  constructor(private readonly auth: SupabaseAuthService) {}

  @Post('auth/login')
  @HttpCode(200)
  @RateLimitTier('auth')
  @ApiOperation({ summary: 'Log in with e-mail and password (Supabase Auth)' })
  @ApiBody({ schema: jsonSchema(loginBodySchema) })
  @ApiOkResponse({ schema: jsonSchema(sessionResponseSchema, 'output') })
  login(@Body(new ZodValidationPipe(loginBodySchema, 'login request')) body: LoginBody): Promise<SessionResponse> {
    return this.auth.login(body.email, body.password);
  }

  @Post('auth/refresh')
  @HttpCode(200)
  @RateLimitTier('auth')
  @ApiOperation({ summary: 'Exchange a refresh token for a new session' })
  @ApiBody({ schema: jsonSchema(refreshBodySchema) })
  @ApiOkResponse({ schema: jsonSchema(sessionResponseSchema, 'output') })
  refresh(
    @Body(new ZodValidationPipe(refreshBodySchema, 'refresh request')) body: RefreshBody,
  ): Promise<SessionResponse> {
    return this.auth.refresh(body.refresh_token);
  }

  @Get('me')
  @UseGuards(JwtAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'The authenticated principal' })
  @ApiOkResponse({ schema: jsonSchema(principalSchema, 'output') })
  me(@CurrentPrincipal() principal: Principal): Principal {
    return principal;
  }
}
