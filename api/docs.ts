// Swagger UI, ReDoc, the OpenAPI document and llms.txt, all served from installed npm packages:
// no CDN, so the docs work offline and behind a firewall.
import fs from 'node:fs';
import path from 'node:path';
import type { Middleware } from 'koa';
import { API_TITLE, buildLlmsTxt, buildOpenApiDocument } from './openapi';
import type { RouteSpec } from './route';

const swaggerDir = path.dirname(require.resolve('swagger-ui-dist/package.json'));
const redocBundle = require.resolve('redoc/bundles/redoc.standalone.js');

const ASSETS: Record<string, { file: string; type: string }> = {
  '/docs/assets/swagger-ui.css': { file: path.join(swaggerDir, 'swagger-ui.css'), type: 'text/css' },
  '/docs/assets/swagger-ui-bundle.js': { file: path.join(swaggerDir, 'swagger-ui-bundle.js'), type: 'application/javascript' },
  '/docs/assets/swagger-ui-standalone-preset.js': { file: path.join(swaggerDir, 'swagger-ui-standalone-preset.js'), type: 'application/javascript' },
  '/docs/assets/docs-init.js': { file: '', type: 'application/javascript' },
  '/redoc/assets/redoc.standalone.js': { file: redocBundle, type: 'application/javascript' },
};

// Inline scripts are avoided so that a strict Content-Security-Policy can be used in front of us.
const SWAGGER_INIT = `window.onload = function () {
  window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout' });
};`;

const SWAGGER_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${API_TITLE} — Swagger UI</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
<script src="/docs/assets/docs-init.js"></script>
</body></html>`;

const REDOC_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${API_TITLE} — ReDoc</title></head>
<body><redoc spec-url="/openapi.json" disable-search="false"></redoc>
<script src="/redoc/assets/redoc.standalone.js"></script>
</body></html>`;

/** The paths this middleware serves (GET and HEAD only), for the 405 answers of other methods. */
export const DOC_RESOURCES = ['/openapi.json', '/llms.txt', '/docs', '/redoc', ...Object.keys(ASSETS)].map((path) => ({ path, methods: ['GET', 'HEAD'] }));

export function docsMiddleware(routes: RouteSpec[]): Middleware {
  const openapi = JSON.stringify(buildOpenApiDocument(routes));
  const llms = buildLlmsTxt(routes);
  const cache = new Map<string, Buffer>();
  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    switch (ctx.path) {
      case '/openapi.json':
        ctx.type = 'application/json';
        ctx.body = openapi;
        return;
      case '/llms.txt':
        ctx.type = 'text/plain; charset=utf-8';
        ctx.body = llms;
        return;
      case '/docs':
        ctx.type = 'text/html; charset=utf-8';
        ctx.body = SWAGGER_HTML;
        return;
      case '/redoc':
        ctx.type = 'text/html; charset=utf-8';
        ctx.body = REDOC_HTML;
        return;
    }
    const asset = ASSETS[ctx.path];
    if (!asset) return next();
    if (!cache.has(ctx.path)) cache.set(ctx.path, asset.file ? fs.readFileSync(asset.file) : Buffer.from(SWAGGER_INIT));
    ctx.type = asset.type;
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = cache.get(ctx.path);
  };
}
