import {
  Body,
  type CanActivate,
  ConflictException,
  Controller,
  type ExecutionContext,
  Get,
  HttpCode,
  Injectable,
  Post,
  Req,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import '../../src/auth/auth.types.js';
import { ProblemException } from '../../src/common/problem.js';
import { recordTiming } from '../../src/common/server-timing.js';
import { AuthAttemptLimiter } from '../../src/rate-limit/auth-attempt-limiter.service.js';
import { RateLimitTier } from '../../src/rate-limit/rate-limit-tier.decorator.js';

/**
 * Test-only stand-in for token verification: `x-test-user` becomes request.principal and
 * request.claims (what JwtAuthGuard would set), so edge tests need no auth server. The scripted
 * agent behind these tests never touches a database, so the claims only have to be well-formed.
 */
@Injectable()
export class TestPrincipalGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    const user = req.headers['x-test-user'];
    if (typeof user === 'string') {
      req.principal = { user_id: user, email: 'x@example.com', clinic_id: 'c', role: 'receptionist' };
      req.claims = { sub: user, aud: 'authenticated', role: 'authenticated', iss: 'test', exp: 4102444800 };
      recordTiming(req, 'auth', 0.5);
    }
    return true;
  }
}

@Injectable()
class RequireUserGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (!context.switchToHttp().getRequest<{ principal?: unknown }>().principal) throw new UnauthorizedException();
    return true;
  }
}

/** Test-only routes: one per tier, and one per error status the API can answer. */
@Controller('v1/test')
export class TestRoutesController {
  constructor(private readonly attempts: AuthAttemptLimiter) {}

  @Get('default')
  def(): { ok: true } {
    return { ok: true };
  }

  @Get('healthcare')
  @RateLimitTier('healthcare')
  healthcare(): { ok: true } {
    return { ok: true };
  }

  @Get('ai')
  @RateLimitTier('ai')
  ai(): { ok: true } {
    return { ok: true };
  }

  /** How the real login handler must use the limiter (see README). */
  @Post('login')
  @RateLimitTier('auth')
  @HttpCode(200)
  async login(@Body() body: { email: string; password: string }, @Req() req: FastifyRequest): Promise<object> {
    await this.attempts.assertAllowed(req.ip, body.email);
    if (body.password !== 'right') {
      await this.attempts.recordFailure(req.ip, body.email);
      throw new ProblemException(401, 'invalid_credentials', 'E-mail or password is wrong.');
    }
    return { token: 't' };
  }

  @Get('private')
  @UseGuards(RequireUserGuard)
  private(): { ok: true } {
    return { ok: true };
  }

  @Post('conflict')
  conflict(): never {
    throw new ConflictException('already exists');
  }

  @Get('boom')
  boom(): never {
    throw new Error('db password=hunter2 for maria@example.com');
  }

  @Get('big')
  big(): { items: { i: number; text: string }[] } {
    return { items: Array.from({ length: 500 }, (_, i) => ({ i, text: 'lorem ipsum dolor sit amet' })) };
  }

  @Get('slow')
  async slow(): Promise<{ ok: true }> {
    await new Promise((r) => setTimeout(r, 120));
    return { ok: true };
  }
}
