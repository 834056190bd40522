# The API and loader image for docker-compose.yml (not used by `make demo` / `make test`).
# The console (issue 8) is built in its own stage; only its bundled files reach the image.
FROM node:20-slim AS console
WORKDIR /console
COPY console/package.json console/package-lock.json console/build.mjs ./
RUN npm ci --no-audit --no-fund
COPY console/src src
RUN npm run build

FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY c360 c360
COPY schema schema
COPY resolvers resolvers
COPY graph graph
COPY core core
COPY etl etl
COPY scoring scoring
COPY synthetic synthetic
COPY auth auth
COPY --from=console /console/dist /app/console-dist
ENV CONSOLE_DIST_DIR=/app/console-dist
RUN pip install --no-cache-dir . && useradd --system c360
USER c360
EXPOSE 8000
CMD ["c360", "serve"]
