# syntax=docker/dockerfile:1
# DiffusionGallery: build with the .NET 10 SDK, run on NVIDIA CUDA 13 + cuDNN 9 with the ASP.NET Core 10 runtime.
#   docker build -t diffusiongallery .
#   docker run --gpus all -p 8080:8080 -v diffusiongallery-data:/data diffusiongallery

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props DiffusionGallery.sln appsettings.json ./
COPY src/DiffusionGallery.Inference/DiffusionGallery.Inference.csproj src/DiffusionGallery.Inference/
COPY src/DiffusionGallery.Web/DiffusionGallery.Web.csproj src/DiffusionGallery.Web/
RUN dotnet restore src/DiffusionGallery.Web/DiffusionGallery.Web.csproj -r linux-x64
COPY src/ src/
COPY wwwroot/ wwwroot/
RUN dotnet publish src/DiffusionGallery.Web/DiffusionGallery.Web.csproj -c Release -r linux-x64 --self-contained false --no-restore -o /app

# The ASP.NET Core runtime, taken from Microsoft's Ubuntu 24.04 image (same base as the CUDA image below).
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble AS aspnet

FROM nvidia/cuda:13.0.0-cudnn-runtime-ubuntu24.04 AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl libicu74 libssl3t64 tzdata zlib1g \
    && rm -rf /var/lib/apt/lists/*
COPY --from=aspnet /usr/share/dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet

RUN useradd --uid 10001 --create-home --shell /usr/sbin/nologin diffusion \
    && mkdir -p /data/images /data/uploads && chown -R diffusion:diffusion /data
WORKDIR /app
COPY --from=build /app ./
COPY models/ ./models/

ENV ASPNETCORE_URLS=http://+:8080 \
    ASPNETCORE_ENVIRONMENT=Production \
    DOTNET_RUNNING_IN_CONTAINER=true \
    Inference__ModelsRoot=/app/models \
    Inference__Provider=Auto \
    Database__ConnectionString="Data Source=/data/diffusiongallery.db" \
    Storage__Root=/data/images \
    Uploads__Root=/data/uploads

USER diffusion
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD curl -fsS http://localhost:8080/healthz || exit 1
ENTRYPOINT ["dotnet", "DiffusionGallery.Web.dll"]
