"""Create or drop a PostgreSQL database for one CI run: pgdb.py ADMIN_URL NAME create|drop."""

import asyncio
import sys

import asyncpg


async def main(url: str, name: str, action: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        if action == "create":
            await conn.execute(f'CREATE DATABASE "{name}"')
        else:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
