import {
  type CanActivate,
  ConflictException,
  Controller,
  type ExecutionContext,
  Get,
  Injectable,
  Post,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import '../../src/auth/auth.types.js';
import { recordTiming } from '../../src/common/server-timing.js';
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
    if (!context.switchToHttp().getRequest<{ principal?: unknown }>().principal) {
      throw new UnauthorizedException();
    }
    return true;
  }
}

/** Test-only routes: one per tier, and one per error status the API can answer. */
@Controller('v1/test')
export class TestRoutesController {
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
