/**
 * The relay's route calls: create a route, read one, change its weights (PATCH, with If-Match
 * on the revision last read when the caller gives one).
 */

import type {
  CallOptions,
  CreateRouteRequest,
  RelayPort,
  Route,
  RouteUpdate,
  UpdateRouteRequest,
} from '../domain/relay.js';
import { sameRules } from './compare.js';
import type { Request } from './failures.js';
import { readRoute, readRouteUpdate, toRouteUpdate } from './schemas.js';
import type { Wire } from './wire.js';

export type RouteCalls = Pick<RelayPort, 'createRoute' | 'getRoute' | 'updateRoute'>;

export function routeCalls(wire: Wire): RouteCalls {
  const calls: RouteCalls = {
    async createRoute(request: CreateRouteRequest, opts?: CallOptions): Promise<Route> {
      const req: Request = {
        method: 'POST',
        path: '/routes/traffic',
        body: request,
        subject: `route ${request.model_alias}`,
      };
      const answer = await wire.send(req, opts);
      if (answer.status >= 200 && answer.status < 300) return wire.parseBody(req, answer, readRoute);
      if (answer.status === 409 && answer.retriedBlind) {
        // An earlier attempt may have created the route before its answer was lost: if the
        // route now holds exactly our rules, that attempt is the one the relay remembers.
        const route = await calls.getRoute(request.model_alias, opts);
        if (sameRules(route.route_rules, request.route_rules)) return route;
      }
      throw wire.failure(req, answer);
    },

    getRoute(routeId: string, opts?: CallOptions): Promise<Route> {
      return wire.call(
        {
          method: 'GET',
          path: `/routes/traffic/${encodeURIComponent(routeId)}`,
          subject: `route ${routeId}`,
        },
        readRoute,
        opts,
      );
    },

    async updateRoute(request: UpdateRouteRequest, opts?: CallOptions): Promise<RouteUpdate> {
      const raw = await wire.call(
        {
          method: 'PATCH',
          path: '/routes/traffic',
          body: { route_id: request.route_id, route_rules: request.route_rules },
          subject: `route ${request.route_id}`,
        },
        readRouteUpdate,
        opts,
      );
      return toRouteUpdate(raw, request.route_id);
    },
  };
  return calls;
}
