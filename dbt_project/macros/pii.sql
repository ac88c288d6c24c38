{#- Pseudonyms of personal data (phone, email): a keyed HMAC, the same on every engine. The
    key never appears in SQL or in dbt's logs. -#}

{# Keyed pseudonym of a normalized PII value: HMAC-SHA256(key, value) as 64 hex digits, the
   same on every engine. The key never appears in SQL: on DuckDB a function registered by the
   dbt-duckdb plugin loyalty.warehouse.pii_duckdb reads it from LOYALTY_PII_KEY; on PostgreSQL
   pgcrypto's hmac() reads the session setting loyalty.pii_key (set from PGOPTIONS when dbt
   connects). NULL and '' stay NULL. #}
{% macro pii_hash(normalized_expression) -%}
    case when {{ normalized_expression }} is null or {{ normalized_expression }} = '' then null
         else {{ adapter.dispatch('pii_pseudonym', 'loyalty')(normalized_expression) }}
    end
{%- endmacro %}

{% macro default__pii_pseudonym(expression) -%}
    loyalty_pseudonym({{ expression }})
{%- endmacro %}

{% macro postgres__pii_pseudonym(expression) -%}
    encode(hmac(convert_to({{ expression }}, 'UTF8'), convert_to(current_setting('loyalty.pii_key'), 'UTF8'), 'sha256'), 'hex')
{%- endmacro %}

{#- Spark: HMAC-SHA256 from sha2, H((K ^ opad) || H((K ^ ipad) || m)). The pads are derived
    from the key by loyalty.warehouse.pii and reach the session as settings (profiles.yml);
    Spark substitutes ${...} when it parses, so the SQL dbt logs holds only their names. -#}
{% macro spark__pii_pseudonym(expression) -%}
    sha2(concat(unhex('${spark.loyalty.pii_opad}'), unhex(sha2(concat(unhex('${spark.loyalty.pii_ipad}'), encode({{ expression }}, 'UTF-8')), 256))), 256)
{%- endmacro %}
