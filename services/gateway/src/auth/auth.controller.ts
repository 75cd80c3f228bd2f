import { Body, Controller, Get, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@neonpro/auth';
import type { FastifyRequest } from 'fastify';
import { ProblemException } from '../common/problem.js';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { AuthAttemptLimiter } from '../rate-limit/auth-attempt-limiter.service.js';
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
  constructor(
    private readonly auth: SupabaseAuthService,
    private readonly attempts: AuthAttemptLimiter,
  ) {}

  /**
   * Only failed attempts count (per client IP + e-mail); once the limit is reached even a correct
   * password is refused until the window ends.
   */
  private async guarded<T>(ip: string, key: string, call: () => Promise<T>): Promise<T> {
    await this.attempts.assertAllowed(ip, key);
    try {
      return await call();
    } catch (err) {
      if (err instanceof ProblemException && err.getStatus() === 401) {
        await this.attempts.recordFailure(ip, key);
      }
      throw err;
    }
  }

  @Post('auth/login')
  @HttpCode(200)
  @RateLimitTier('auth')
  @ApiOperation({ summary: 'Log in with e-mail and password (Supabase Auth)' })
  @ApiBody({ schema: jsonSchema(loginBodySchema) })
  @ApiOkResponse({ schema: jsonSchema(sessionResponseSchema, 'output') })
  login(
    @Body(new ZodValidationPipe(loginBodySchema, 'login request')) body: LoginBody,
    @Req() req: FastifyRequest,
  ): Promise<SessionResponse> {
    return this.guarded(req.ip, body.email.toLowerCase(), () => this.auth.login(body.email, body.password));
  }

  @Post('auth/refresh')
  @HttpCode(200)
  @RateLimitTier('auth')
  @ApiOperation({ summary: 'Exchange a refresh token for a new session' })
  @ApiBody({ schema: jsonSchema(refreshBodySchema) })
  @ApiOkResponse({ schema: jsonSchema(sessionResponseSchema, 'output') })
  refresh(
    @Body(new ZodValidationPipe(refreshBodySchema, 'refresh request')) body: RefreshBody,
    @Req() req: FastifyRequest,
  ): Promise<SessionResponse> {
    // A refresh has no e-mail: invalid refresh tokens count per client IP.
    return this.guarded(req.ip, '(refresh)', () => this.auth.refresh(body.refresh_token));
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
