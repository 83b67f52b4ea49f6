# One image for every process of Facility Monitor; the compose file picks the command.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
# The browser dashboard, built once into the image (the server would otherwise build it at start).
RUN npx tsx server/dashboard/dashboard-build.ts --force
ENV NODE_ENV=production DATA_DIR=/data
VOLUME /data
CMD ["npx", "tsx", "bin/start.ts"]
