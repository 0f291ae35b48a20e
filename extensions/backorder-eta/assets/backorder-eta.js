/*
 * Backorder ETA app block: keeps the visible ETA line in step with the theme's variant picker.
 *
 * The block renders one hidden line per variant that has an ETA (data-variant-id) and lists every
 * variant id of its product (data-variant-ids). When the selected variant changes, the line of the
 * new variant is shown and the others are hidden; a variant of another product changes nothing.
 * Themes announce a variant change in different ways, so every common signal is followed:
 *   - Dawn and themes built on it: pub/sub `PUB_SUB_EVENTS.variantChange` (data.variant);
 *   - Horizon and other theme-events themes: a bubbling `variant:update` DOM event (detail.resource);
 *   - themes that emit `variant:change` on the document (detail.variant);
 *   - every theme: the `change` event of the product form's `id` input or select.
 */
(function () {
  'use strict';

  if (window.backorderEtaLoaded) return;
  window.backorderEtaLoaded = true;

  var BLOCK_SELECTOR = '[data-backorder-eta]';

  function showVariant(variantId) {
    if (variantId === undefined || variantId === null || variantId === '') return;
    var id = String(variantId);
    var blocks = document.querySelectorAll(BLOCK_SELECTOR);
    for (var i = 0; i < blocks.length; i++) {
      var ids = (blocks[i].getAttribute('data-variant-ids') || '').split(',');
      if (ids.indexOf(id) === -1) continue;
      var lines = blocks[i].querySelectorAll('[data-variant-id]');
      for (var j = 0; j < lines.length; j++) {
        lines[j].hidden = lines[j].getAttribute('data-variant-id') !== id;
      }
    }
  }

  // The chosen options match no variant: hide the lines of that product.
  function hideProduct(productId) {
    if (productId === undefined || productId === null) return;
    var blocks = document.querySelectorAll(BLOCK_SELECTOR);
    for (var i = 0; i < blocks.length; i++) {
      if (blocks[i].getAttribute('data-product-id') !== String(productId)) continue;
      var lines = blocks[i].querySelectorAll('[data-variant-id]');
      for (var j = 0; j < lines.length; j++) lines[j].hidden = true;
    }
  }

  function isProductFormVariantInput(element) {
    if (!element || element.name !== 'id' || !element.form) return false;
    var action = element.form.getAttribute('action') || '';
    return action.indexOf('/cart/add') !== -1;
  }

  function onFormChange(event) {
    if (isProductFormVariantInput(event.target)) showVariant(event.target.value);
  }

  function onVariantUpdate(event) {
    var detail = event.detail || {};
    if (detail.resource) {
      showVariant(detail.resource.id);
    } else if (detail.data && detail.data.productId) {
      hideProduct(detail.data.productId);
    }
  }

  function onVariantChange(event) {
    var detail = event.detail || {};
    if (detail.variant) showVariant(detail.variant.id);
  }

  var subscribedToDawn = false;

  function subscribeToDawn() {
    // Dawn's pubsub.js declares these as globals of a classic script.
    if (subscribedToDawn || typeof subscribe !== 'function' || typeof PUB_SUB_EVENTS !== 'object' ||
        !PUB_SUB_EVENTS.variantChange) return;
    subscribedToDawn = true;
    subscribe(PUB_SUB_EVENTS.variantChange, function (event) {
      var variant = event && event.data && event.data.variant;
      if (variant) showVariant(variant.id);
    });
  }

  document.addEventListener('change', onFormChange);
  document.addEventListener('variant:update', onVariantUpdate);
  document.addEventListener('variant:change', onVariantChange);
  // The theme's scripts may run after this one (deferred scripts run in document order, all of them
  // before DOMContentLoaded); if this script came late, `load` is the next chance.
  if (document.readyState === 'complete') {
    subscribeToDawn();
  } else {
    document.addEventListener('DOMContentLoaded', subscribeToDawn);
    window.addEventListener('load', subscribeToDawn);
  }
})();
