# The API and loader image for docker-compose.yml (not used by `make demo` / `make test`).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY c360 c360
COPY schema schema
COPY resolvers resolvers
COPY graph graph
COPY etl etl
COPY auth auth
RUN pip install --no-cache-dir . && useradd --system c360
USER c360
EXPOSE 8000
CMD ["c360", "serve"]
