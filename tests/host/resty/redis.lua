-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- APISIX ships lua-resty-redis as `resty.redis`; Debian packages the same library as `nginx.redis`
-- (lua-nginx-redis, unpacked into .deps/ by scripts/setup.sh). This maps the one name onto the other.
return require("nginx.redis")
