import { Module } from '@nestjs/common';
import { EdgeModule } from '../edge/edge.module.js';
import { AuthController } from './auth.controller.js';
import { Authenticator, tokenVerifierProvider } from './authenticator.service.js';
import { JwtAuthGuard } from './jwt-auth.guard.js';
import { MembershipService } from './membership.service.js';
import { PrincipalResolverGuard } from './principal-resolver.guard.js';
import { SupabaseAuthService } from './supabase-auth.service.js';

/** Login and refresh (Supabase Auth), token verification and clinic membership. */
@Module({
  imports: [EdgeModule],
  controllers: [AuthController],
  providers: [
    tokenVerifierProvider,
    MembershipService,
    Authenticator,
    JwtAuthGuard,
    PrincipalResolverGuard,
    SupabaseAuthService,
  ],
  exports: [Authenticator, JwtAuthGuard, PrincipalResolverGuard],
})
export class AuthModule {}
