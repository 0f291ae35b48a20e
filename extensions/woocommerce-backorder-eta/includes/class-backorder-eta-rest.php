<?php
/**
 * A REST route through which the backorder connector writes its four meta keys on variations of any number of
 * variable products in one request: WooCommerce's own variation batch takes the variations of one parent.
 *
 * @package WooCommerce_Backorder_ETA
 */

defined( 'ABSPATH' ) || exit;

/**
 * `POST /wp-json/wc-backorder-eta/v1/variations/batch`: `{"update": [{"id": 57, "meta_data": [...]}]}`.
 */
final class Backorder_ETA_REST {

	/**
	 * WooCommerce's API keys and OAuth authenticate only requests to `wc/` and `wc-*` namespaces, and the
	 * connector signs in with an API key.
	 */
	const REST_NAMESPACE = 'wc-backorder-eta/v1';
	const ROUTE          = '/variations/batch';

	/**
	 * WooCommerce's default batch size, which the connector splits its writes by.
	 */
	const BATCH_LIMIT = 100;

	/**
	 * Registers the route (on `rest_api_init`).
	 */
	public function register_routes() {
		register_rest_route(
			self::REST_NAMESPACE,
			self::ROUTE,
			array(
				'methods'             => WP_REST_Server::EDITABLE,
				'callback'            => array( $this, 'update_variations' ),
				'permission_callback' => array( $this, 'check_permission' ),
			)
		);
	}

	/**
	 * Lets in users who may edit products; each variation is checked again on its own.
	 *
	 * @return true|WP_Error
	 */
	public function check_permission() {
		if ( current_user_can( 'edit_products' ) ) {
			return true;
		}
		return new WP_Error(
			'backorder_eta_rest_cannot_edit',
			__( 'Sorry, you are not allowed to edit products.', 'woocommerce-backorder-eta' ),
			array( 'status' => rest_authorization_required_code() )
		);
	}

	/**
	 * Writes the meta of each variation in the body's `update` list, one at a time: an item that fails
	 * gets an error in its place in the answer and does not stop the others.
	 *
	 * @param WP_REST_Request $request The request.
	 * @return WP_REST_Response|WP_Error
	 */
	public function update_variations( $request ) {
		$body  = $request->get_json_params();
		$items = is_array( $body ) && isset( $body['update'] ) ? $body['update'] : null;
		if ( ! is_array( $items ) || array_values( $items ) !== $items ) {
			return new WP_Error(
				'backorder_eta_rest_invalid_body',
				__( 'The body must be a JSON object with an "update" list.', 'woocommerce-backorder-eta' ),
				array( 'status' => 400 )
			);
		}

		/** This filter is documented in WooCommerce's WC_REST_Controller::check_batch_limit(). */
		$limit = (int) apply_filters( 'woocommerce_rest_batch_items_limit', self::BATCH_LIMIT, 'backorder-eta/variations' );
		if ( count( $items ) > $limit ) {
			return new WP_Error(
				'backorder_eta_rest_too_many_items',
				/* translators: %d: the most items one request may hold, such as 100. */
				sprintf( __( 'Unable to accept more than %d items for this request.', 'woocommerce-backorder-eta' ), $limit ),
				array( 'status' => 413 )
			);
		}

		$entries = array();
		foreach ( $items as $item ) {
			$entries[] = $this->update_variation( $item );
		}
		return rest_ensure_response( array( 'update' => $entries ) );
	}

	/**
	 * Writes one item's meta, all of it or, when any of it is invalid, none.
	 *
	 * @param mixed $item One entry of the `update` list.
	 * @return array The variation's id, parent and meta as now stored, or the item's id and an error.
	 */
	private function update_variation( $item ) {
		$id        = is_array( $item ) && isset( $item['id'] ) ? $item['id'] : null;
		$variation = is_int( $id ) && $id > 0 ? wc_get_product( $id ) : null;
		if ( ! $variation instanceof WC_Product_Variation ) {
			return $this->item_error(
				$id,
				'backorder_eta_rest_invalid_variation',
				__( 'No product variation has this ID.', 'woocommerce-backorder-eta' ),
				404
			);
		}
		if ( ! current_user_can( 'edit_post', $id ) ) {
			return $this->item_error(
				$id,
				'backorder_eta_rest_cannot_edit',
				__( 'Sorry, you are not allowed to edit this variation.', 'woocommerce-backorder-eta' ),
				403
			);
		}

		$meta = $this->valid_meta( isset( $item['meta_data'] ) ? $item['meta_data'] : null );
		if ( $meta instanceof WP_Error ) {
			$data = $meta->get_error_data();
			return $this->item_error( $id, $meta->get_error_code(), $meta->get_error_message(), $data['status'] );
		}
		foreach ( $meta as $key => $value ) {
			$variation->update_meta_data( $key, $value );
		}
		$variation->save();

		$stored = array();
		foreach ( self::meta_keys() as $key ) {
			$stored[] = array(
				'key'   => $key,
				'value' => $variation->get_meta( $key, true ),
			);
		}
		return array(
			'id'        => $variation->get_id(),
			'parent_id' => $variation->get_parent_id(),
			'meta_data' => $stored,
		);
	}

	/**
	 * Checks an item's `meta_data` list: only the connector's four keys, dates that exist (or '' for none),
	 * and the merchant's text sanitized.
	 *
	 * @param mixed $meta_data The item's `meta_data`, a list of `{"key": ..., "value": ...}`.
	 * @return array|WP_Error Key => value to write, or the first problem found.
	 */
	private function valid_meta( $meta_data ) {
		if ( ! is_array( $meta_data ) || array_values( $meta_data ) !== $meta_data ) {
			return new WP_Error(
				'backorder_eta_rest_invalid_meta_key',
				__( 'Each item needs a "meta_data" list of keys and values.', 'woocommerce-backorder-eta' ),
				array( 'status' => 400 )
			);
		}
		$meta = array();
		foreach ( $meta_data as $entry ) {
			$key = is_array( $entry ) && isset( $entry['key'] ) ? $entry['key'] : null;
			if ( ! in_array( $key, self::meta_keys(), true ) ) {
				return new WP_Error(
					'backorder_eta_rest_invalid_meta_key',
					/* translators: %s: the four meta keys the route writes, such as "_backorder_eta, _backorder_eta_text". */
					sprintf( __( 'Only these meta keys can be written here: %s.', 'woocommerce-backorder-eta' ), implode( ', ', self::meta_keys() ) ),
					array( 'status' => 400 )
				);
			}
			$value = array_key_exists( 'value', $entry ) ? $entry['value'] : null;
			if ( Backorder_ETA::META_TEXT === $key ) {
				if ( ! is_string( $value ) ) {
					return new WP_Error(
						'backorder_eta_rest_invalid_meta_key',
						/* translators: %s: the meta key, _backorder_eta_text. */
						sprintf( __( 'The value of %s must be a string.', 'woocommerce-backorder-eta' ), $key ),
						array( 'status' => 400 )
					);
				}
				$meta[ $key ] = sanitize_text_field( $value );
			} elseif ( '' === $value || $this->is_date( $value ) ) {
				$meta[ $key ] = $value;
			} else {
				return new WP_Error(
					'backorder_eta_rest_invalid_date',
					/* translators: %s: the meta key, such as _backorder_eta. */
					sprintf( __( 'The value of %s must be a date (YYYY-MM-DD) or empty.', 'woocommerce-backorder-eta' ), $key ),
					array( 'status' => 400 )
				);
			}
		}
		return $meta;
	}

	/**
	 * Whether a value is a Y-m-d date that exists: the storefront ignores any other.
	 *
	 * @param mixed $value A meta value from the request.
	 * @return bool
	 */
	private function is_date( $value ) {
		return is_string( $value )
			&& preg_match( '/^(\d{4})-(\d{2})-(\d{2})$/', $value, $parts )
			&& checkdate( (int) $parts[2], (int) $parts[3], (int) $parts[1] );
	}

	/**
	 * One item's entry in the answer when it fails, in the shape of WooCommerce's batch errors.
	 *
	 * @param mixed  $id      The item's id as the request gave it.
	 * @param string $code    The error code.
	 * @param string $message The error message.
	 * @param int    $status  The HTTP status the item would have had on its own.
	 * @return array
	 */
	private function item_error( $id, $code, $message, $status ) {
		return array(
			'id'    => $id,
			'error' => array(
				'code'    => $code,
				'message' => $message,
				'data'    => array( 'status' => $status ),
			),
		);
	}

	/**
	 * The meta keys the route writes, in the order the answer lists them.
	 *
	 * @return string[]
	 */
	private static function meta_keys() {
		return array( Backorder_ETA::META_ETA, Backorder_ETA::META_EARLIEST, Backorder_ETA::META_LATEST, Backorder_ETA::META_TEXT );
	}
}
