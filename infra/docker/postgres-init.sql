-- Same databases as the local stack (infra/local/postgres.sh).
CREATE DATABASE schema_registry OWNER xp;
