"""A local HTTP stand-in for the eBay, Etsy and Vinted listing APIs, with fault injection.

Surface (``python -m simulator`` serves it on SIMULATOR_HOST:SIMULATOR_PORT):

- eBay ``/ebay/sell/inventory/v1``: ``PUT inventory_item/{sku}``, ``POST offer``,
  ``GET|PUT|DELETE offer/{id}``, ``POST offer/{id}/publish[/]``, ``POST offer/{id}/withdraw``,
  ``GET offer?sku=``, ``POST bulk_update_price_quantity`` (modules ``simulator.ebay``,
  ``simulator.ebay_checks``); Fulfillment ``/ebay/sell/fulfillment/v1`` ``GET order``
  (``simulator.ebay_orders``); Metadata
  ``/ebay/sell/metadata/v1`` and Taxonomy ``/ebay/commerce/taxonomy/v1`` for category rules
  (``simulator.ebay_metadata``, ``simulator.ebay_taxonomy``, ``simulator.ebay_categories``);
  OAuth ``/ebay/identity/v1/oauth2/token``; tokens, scopes, request limit
  (``simulator.ebay_access``).
- Etsy ``/etsy/v3/application``: create draft, ``GET listings/{id}``, upload image
  (multipart ``image`` file), list and delete images, ``PATCH`` a listing (content, ``state``
  active or inactive), list shop listings, delete (``simulator.etsy``); ``GET|PUT`` inventory
  (``simulator.etsy_inventory``); ``GET shops/{id}/receipts`` (``simulator.etsy_receipts``).
- Vinted ``/vinted/api/v1``: signed ``POST items``, ``GET items``, ``GET items/{id}/status``,
  ``GET ontologies`` (module ``simulator.vinted``), ``PUT items`` and ``DELETE items``
  (``simulator.vinted_changes``), ``POST|GET webhooks`` and the signed item webhooks it sends
  (``simulator.vinted_webhooks``).
- Control ``/__sim``: listings, faults, latency, config (Vinted activation delay and slots),
  reset, calls (module ``simulator.control``); ``POST /__sim/sales``, a buyer's purchase
  (``simulator.sales``; Vinted's side ``simulator.vinted_sales``). Faults and the call log
  name eBay and Etsy operations by their official operationId, found in ``specs/`` by
  ``simulator.spec``.
"""

from simulator.app import create_app

__all__ = ["create_app"]
