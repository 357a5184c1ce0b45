{#
    The key that identifies a customer: the email trimmed and lowercased, so
    that " Ann.Lee@Test.com" and "ann.lee@test.com" are one person (R1).
#}
{% macro normalize_email(email) -%}
    lower(trim({{ email }}))
{%- endmacro %}
