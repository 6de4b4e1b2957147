// `npm run openapi`: print the OpenAPI document without starting anything (for client generators).
import { buildOpenApiDocument } from './openapi';
import { routes } from './routes';

process.stdout.write(JSON.stringify(buildOpenApiDocument(routes), null, 2) + '\n');
