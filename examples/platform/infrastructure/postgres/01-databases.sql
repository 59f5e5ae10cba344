-- Each service logs in as the owner of its own database (run once, on the first start).
CREATE ROLE identity LOGIN PASSWORD 'identity';
CREATE DATABASE identity OWNER identity;
CREATE ROLE tenants LOGIN PASSWORD 'tenants';
CREATE DATABASE tenants OWNER tenants;
CREATE ROLE instances LOGIN PASSWORD 'instances';
CREATE DATABASE instances OWNER instances;
CREATE ROLE billing LOGIN PASSWORD 'billing';
CREATE DATABASE billing OWNER billing;
